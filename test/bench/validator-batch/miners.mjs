// Worker thread of the validator-batch benchmark: the simulated miners (the "other machines").
// Starts `miners` SimulatedMiners with `executors` executors each and posts back where they listen.
import { parentPort, workerData } from 'node:worker_threads';

const { dist, miners, executors, executorClass } = workerData;
const { loadHotkey } = await import(`${dist}/keys/index.js`);
const { SimulatedMiner } = await import(`${dist}/testkit/simulated-miner.js`);

const started = [];
for (let i = 0; i < miners; i++) {
  const hotkey = await loadHotkey({ uri: `//BenchMiner${i}` });
  // Receipt signatures are not re-checked here: 256 real miners would verify in parallel on 256
  // machines; one worker thread doing it would measure this thread, not the validator.
  started.push(await SimulatedMiner.start({ hotkey, manifest: { [executorClass]: executors }, verifyReceipts: false }));
}
parentPort.postMessage({ miners: started.map((miner) => ({ hotkey: miner.hotkey, port: miner.port })) });
parentPort.on('message', async (message) => {
  if (message === 'stats') {
    const receipts = started.reduce(
      (sum, m) => ({
        started: sum.started + m.receipts.started,
        accepted: sum.accepted + m.receipts.accepted,
        finished: sum.finished + m.receipts.finished,
      }),
      { started: 0, accepted: 0, finished: 0 },
    );
    parentPort.postMessage({ receipts, jobs: started.reduce((n, m) => n + m.jobs.length, 0) });
  }
  if (message === 'close') {
    await Promise.all(started.map((miner) => miner.close()));
    process.exit(0);
  }
});
