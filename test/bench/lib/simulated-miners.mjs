// Simulated miners for the benchmarks that stand for many miner machines: `count` SimulatedMiners
// (core/src/testkit), each its own websocket server on its own port with its own sr25519 hotkey,
// that authenticate the validator, serve a manifest of `executors` executors and answer every job
// at once with the right result. The validator-batch benchmark hosts them in a worker thread, the
// scale benchmark in a few child processes.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { DIST } from './report.mjs';

const { loadHotkey } = await import(join(DIST, 'keys/index.js'));
const { SimulatedMiner } = await import(join(DIST, 'testkit/simulated-miner.js'));

/**
 * Starts miners `from`…`from + count - 1`. Hotkeys are `//${prefix}${index}` (dev URIs), or with
 * `seeds` the raw 0x seed sha256(`${prefix}${index}`): a dev URI costs a mnemonic's key stretching
 * (~6× the CPU), too much for 10,000 keys. Either way the same index gives the same hotkey in any
 * process, so the caller can register them on its chain.
 */
export async function startSimulatedMiners({ prefix, from = 0, count, executors, executorClass, seeds = false }) {
  const miners = [];
  for (let i = from; i < from + count; i++) {
    const uri = seeds ? `0x${createHash('sha256').update(`${prefix}${i}`).digest('hex')}` : `//${prefix}${i}`;
    const hotkey = await loadHotkey({ uri });
    // Receipt signatures are not re-checked: the real miners would verify them in parallel on
    // their own machines; these processes doing it would measure themselves, not the validator.
    miners.push(await SimulatedMiner.start({ hotkey, manifest: { [executorClass]: executors }, verifyReceipts: false }));
  }
  return miners;
}

/** Receipts the miners received (by type) and job requests they ran, added up. */
export function minerTotals(miners) {
  const receipts = { started: 0, accepted: 0, finished: 0 };
  let jobs = 0;
  for (const miner of miners) {
    receipts.started += miner.receipts.started;
    receipts.accepted += miner.receipts.accepted;
    receipts.finished += miner.receipts.finished;
    jobs += miner.jobs.length;
  }
  return { receipts, jobs };
}

export function closeSimulatedMiners(miners) {
  return Promise.all(miners.map((miner) => miner.close()));
}
