#!/usr/bin/env node
// Validator batch benchmark: one synthetic batch against 256 simulated miners × 16 executors
// (4,096 jobs) that answer instantly over real websockets, on localhost. Reports the batch
// overhead (first initial request → last finished receipt, minus the job time, which is 0 here)
// and the peak memory of the process. Target: under 5 s and under 1 GiB on a 2-core machine.
// Its floor is the validator's own crypto: every sr25519 signature it made during the batch
// (counted) at the wasm signing rate measured in the same run.
//
//   npm run build && node test/bench/validator-batch/run.mjs [--miners=256] [--executors=16] [--quick]
//
// The miners run in a worker thread (they stand for other machines); the validator runs on the
// main thread exactly as `horde validator` runs a batch: real sr25519 auth and receipts, SQLite
// store, job generation and verification.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');
const dist = join(root, 'core/dist');
const arg = (name, fallback) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const QUICK = process.argv.includes('--quick');
const MINERS = arg('miners', QUICK ? 16 : 256);
const EXECUTORS = arg('executors', QUICK ? 4 : 16);
const CLASS = 'always_on.test';

const { loadHotkey } = await import(`${dist}/keys/index.js`);
const { openStore } = await import(`${dist}/store/index.js`);
const { runBatch } = await import(`${dist}/validator/batch.js`);
const { cycleByIndex } = await import(`${dist}/validator/cycles.js`);
const { ValidatorStore } = await import(`${dist}/validator/store.js`);
const { SystemClock } = await import(`${dist}/time/clock.js`);
const { default: pino } = await import('pino');

// Memory: sampled every 10 ms for the whole process (both threads share the RSS).
let peakRss = 0;
let peakHeap = 0;
const sampler = setInterval(() => {
  const usage = process.memoryUsage();
  peakRss = Math.max(peakRss, usage.rss);
  peakHeap = Math.max(peakHeap, usage.heapUsed);
}, 10);

const worker = new Worker(join(here, 'miners.mjs'), { workerData: { miners: MINERS, executors: EXECUTORS, executorClass: CLASS } });
const ask = (message) =>
  new Promise((resolve) => {
    worker.once('message', resolve);
    if (message) worker.postMessage(message);
  });
const setupStarted = performance.now();
const { miners } = await ask();
const setupMs = performance.now() - setupStarted;

/** The always_on.test class as the hardware-classes plugin describes it (3 s spin-up, no GPU). */
const hardwareClass = {
  id: CLASS,
  description: 'test',
  spinUpSeconds: 3,
  shortCode: 'T',
  resources: {},
  dockerPreset: 'none',
  proof: { jobGenerators: ['echo'], maxJobSeconds: 10 },
};
/** Each job carries a fresh secret the executor must print back; the validator checks it. */
const echoGenerator = {
  name: 'echo',
  supports: (c) => c.id === CLASS,
  async generate() {
    const secret = randomBytes(8).toString('hex');
    return {
      description: 'echo',
      spec: {
        executorClass: CLASS,
        image: 'echo',
        command: ['--key', secret],
        env: {},
        dockerRunOptionsPreset: 'none',
        timing: {
          allowedLeewaySeconds: 5,
          downloadTimeLimitSeconds: 10,
          executionTimeLimitSeconds: 10,
          uploadTimeLimitSeconds: 10,
          streamingStartTimeLimitSeconds: 0,
        },
      },
      verify: async (result) => ({ correct: result.stdout.trim() === secret, inTime: true, details: '' }),
    };
  },
};

const dataDir = mkdtempSync(join(tmpdir(), 'horde-bench-'));
const store = await openStore({ client: 'sqlite', filename: join(dataDir, 'validator.sqlite') });
const signingKey = await loadHotkey({ uri: '//BenchValidator' });
// Keys sign through wasm sr25519 (core/src/keys); the count of signatures gives the crypto floor.
let signatures = 0;
const validator = {
  ...signingKey,
  sign: (message) => {
    signatures += 1;
    return signingKey.sign(message);
  },
};
/** Signatures per second of the same key, same path, on a receipt-sized message. */
function signRate() {
  const message = JSON.stringify({
    job_uuid: '3f2b2c1a-0000-4000-8000-000000000000',
    miner_hotkey: targetsHotkey,
    validator_hotkey: signingKey.ss58,
    timestamp: new Date().toISOString(),
    executor_class: CLASS,
    time_accepted: new Date().toISOString(),
    ttl: 30,
  });
  for (let i = 0; i < 50; i++) signingKey.sign(message);
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < (QUICK ? 200 : 1000)) {
    for (let i = 0; i < 20; i++) signingKey.sign(message);
    n += 20;
  }
  return n / ((performance.now() - start) / 1000);
}
const targetsHotkey = miners[0].hotkey;
const targets = miners.map((miner, i) => ({ hotkey: miner.hotkey, coldkey: `cold-${i}`, uid: i, host: '127.0.0.1', port: miner.port }));
peakRss = 0;
peakHeap = 0;
const memoryBefore = process.memoryUsage();
const started = performance.now();
const result = await runBatch(cycleByIndex(1, 722), targets, {
  validator,
  clock: new SystemClock(),
  logger: pino({ level: 'warn' }),
  store: new ValidatorStore(store, validator.ss58),
  generators: [echoGenerator],
  hardwareClasses: [hardwareClass],
  settings: {
    limits: { reservationMs: 7000, startupMs: 10000, slackMs: 120000 },
    manifestTimeoutMs: 35000,
    mainHotkeyTimeoutMs: 10000,
    connectConcurrency: 128,
    generateConcurrency: 64,
    verifyConcurrency: 32,
    maxExecutorsPerClass: 0,
  },
});
const wallMs = performance.now() - started;
clearInterval(sampler);
const signaturesPerSecond = signRate();
const cryptoFloorMs = (signatures / signaturesPerSecond) * 1000;
const stats = await ask('stats');
await store.close();
rmSync(dataDir, { recursive: true, force: true });
worker.postMessage('close');

const MiB = 1024 * 1024;
const results = {
  benchmark: 'validator-batch',
  date: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: +(totalmem() / 1024 ** 3).toFixed(1),
    platform: `${platform()} ${release()}`,
    node: process.version,
  },
  setup: { miners: MINERS, executorsPerMiner: EXECUTORS, jobs: MINERS * EXECUTORS, minerStartupMs: Math.round(setupMs) },
  batch: {
    miners: result.miners,
    jobs: result.jobs,
    outcomes: result.outcomes,
    correct: result.records.filter((r) => r.correct === true).length,
    durationMs: result.durationMs,
    longestJobMs: result.longestJobMs,
    overheadSeconds: +(result.durationMs / 1000).toFixed(3),
    wallIncludingConnectMs: Math.round(wallMs),
    receiptsSeenByMiners: stats.receipts,
  },
  floor: {
    signatures,
    signaturesPerSecond: Math.round(signaturesPerSecond),
    cryptoFloorMs: Math.round(cryptoFloorMs),
    ratio: +(result.durationMs / cryptoFloorMs).toFixed(2),
  },
  memory: {
    peakRssMiB: Math.round(peakRss / MiB),
    peakHeapUsedMiB: Math.round(peakHeap / MiB),
    rssBeforeMiB: Math.round(memoryBefore.rss / MiB),
  },
  target: { overheadSeconds: 5, peakRssMiB: 1024 },
};
// Timings are reported against their goal, never asserted (a shared machine varies); a batch that
// did not verify every job is a broken benchmark and fails the run.
results.goalMet = results.batch.overheadSeconds < 5 && results.memory.peakRssMiB < 1024;
results.complete = results.batch.correct === results.setup.jobs;

console.log(`validator-batch: ${MINERS} miners × ${EXECUTORS} executors = ${MINERS * EXECUTORS} jobs (${cpus().length} CPUs)`);
console.table({
  'batch overhead (s)': { value: results.batch.overheadSeconds, target: '< 5' },
  'wall incl. connect + manifests (s)': { value: +(wallMs / 1000).toFixed(3), target: '' },
  'crypto floor (s)': { value: +(cryptoFloorMs / 1000).toFixed(3), target: `${signatures} signs at ${Math.round(signaturesPerSecond)}/s` },
  'overhead / floor': { value: results.floor.ratio, target: '' },
  'jobs verified correct': { value: results.batch.correct, target: MINERS * EXECUTORS },
  'peak RSS, whole process (MiB)': { value: results.memory.peakRssMiB, target: '< 1024' },
  'peak heap used, validator thread (MiB)': { value: results.memory.peakHeapUsedMiB, target: '' },
});
console.log(`goal (< 5 s, < 1 GiB): ${results.goalMet ? 'met' : 'NOT met'}`);
// Jobs that timed out on an overloaded machine are a figure; no job verified means the benchmark broke.
if (!results.complete)
  console.warn(`only ${results.batch.correct} of ${results.setup.jobs} jobs verified correct (the others ran past their deadlines)`);
if (results.batch.correct === 0) {
  console.error('benchmark broken: no job verified correct');
  process.exitCode = 1;
}
mkdirSync(join(here, '../results'), { recursive: true });
writeFileSync(join(here, `../results/validator-batch${QUICK ? '.quick' : ''}.json`), `${JSON.stringify(results, null, 2)}\n`);
