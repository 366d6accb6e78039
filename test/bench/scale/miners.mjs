// A child process of the scale benchmark: one share of the simulated miners (the "other machines";
// a few such processes hold them all). Started with fork(); argv: prefix from count executors class.
// Says { ready, miners: [{ hotkey, port }] } once every miner listens; answers 'stats' with the
// receipts and jobs its miners saw and its own CPU seconds; exits on 'close'.
import { closeSimulatedMiners, minerTotals, startSimulatedMiners } from '../lib/simulated-miners.mjs';

const [prefix, from, count, executors, executorClass] = process.argv.slice(2);
const miners = await startSimulatedMiners({
  prefix,
  from: Number(from),
  count: Number(count),
  executors: Number(executors),
  executorClass,
  seeds: true,
});
process.send({ ready: true, miners: miners.map((miner) => ({ hotkey: miner.hotkey, port: miner.port })) });
process.on('message', async (message) => {
  if (message === 'stats') {
    const cpu = process.cpuUsage();
    process.send({
      stats: { ...minerTotals(miners), cpuSeconds: (cpu.user + cpu.system) / 1e6, rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20) },
    });
  }
  if (message === 'close') {
    await closeSimulatedMiners(miners);
    process.exit(0);
  }
});
// The benchmark is gone (it crashed or was killed): do not linger holding thousands of ports.
process.on('disconnect', () => process.exit(0));
