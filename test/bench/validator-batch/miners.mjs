// Worker thread of the validator-batch benchmark: the simulated miners (the "other machines").
// Starts `miners` SimulatedMiners with `executors` executors each and posts back where they listen.
import { parentPort, workerData } from 'node:worker_threads';
import { closeSimulatedMiners, minerTotals, startSimulatedMiners } from '../lib/simulated-miners.mjs';

const { miners, executors, executorClass } = workerData;
const started = await startSimulatedMiners({ prefix: 'BenchMiner', count: miners, executors, executorClass });
parentPort.postMessage({ miners: started.map((miner) => ({ hotkey: miner.hotkey, port: miner.port })) });
parentPort.on('message', async (message) => {
  if (message === 'stats') parentPort.postMessage(minerTotals(started));
  if (message === 'close') {
    await closeSimulatedMiners(started);
    process.exit(0);
  }
});
