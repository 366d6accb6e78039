#!/usr/bin/env node
// Validator batch benchmark: one synthetic batch against 256 simulated miners × 16 executors
// (4,096 jobs) that answer instantly over real websockets, on localhost. Reports the batch
// overhead (first initial request → last finished receipt, minus the job time, which is 0 here)
// and the peak memory of the process. Target: under 5 s and under 1 GiB on a 2-core machine.
//
//   npm run build && node test/bench/validator-batch/run.mjs [--miners=256] [--executors=16]
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
const MINERS = arg('miners', 256);
const EXECUTORS = arg('executors', 16);
const CLASS = 'always_on.test';

const { loadHotkey } = await import(`${dist}/keys/index.js`);
const { openStore } = await import(`${dist}/store/index.js`);
const { runBatch } = await import(`${dist}/validator/batch.js`);
const { cycleByIndex } = await import(`${dist}/validator/cycles.js`);
const { ValidatorStore } = await import(`${dist}/validator/store.js`);
const { withWasmSigning } = await import(`${dist}/validator/fast-signer.js`);
const { SystemClock } = await import(`${dist}/runtime/clock.js`);
const { default: pino } = await import('pino');

// Memory: sampled every 10 ms for the whole process (both threads share the RSS).
let peakRss = 0;
let peakHeap = 0;
const sampler = setInterval(() => {
  const usage = process.memoryUsage();
  peakRss = Math.max(peakRss, usage.rss);
  peakHeap = Math.max(peakHeap, usage.heapUsed);
}, 10);

const worker = new Worker(join(here, 'miners.mjs'), { workerData: { dist, miners: MINERS, executors: EXECUTORS, executorClass: CLASS } });
const ask = (message) => new Promise((resolve) => { worker.once('message', resolve); if (message) worker.postMessage(message); });
const setupStarted = performance.now();
const { miners } = await ask();
const setupMs = performance.now() - setupStarted;

/** The always_on.test class as the hardware-classes plugin describes it (3 s spin-up, no GPU). */
const hardwareClass = { id: CLASS, description: 'test', spinUpSeconds: 3, shortCode: 'T', resources: {}, dockerPreset: 'none', proof: { jobGenerators: ['echo'], maxJobSeconds: 10 } };
/** Each job carries a fresh secret the executor must print back; the validator checks it. */
const echoGenerator = {
  name: 'echo',
  supports: (c) => c.id === CLASS,
  async generate() {
    const secret = randomBytes(8).toString('hex');
    return {
      description: 'echo',
      spec: { executorClass: CLASS, image: 'echo', command: ['--key', secret], env: {}, dockerRunOptionsPreset: 'none', timing: { allowedLeewaySeconds: 5, downloadTimeLimitSeconds: 10, executionTimeLimitSeconds: 10, uploadTimeLimitSeconds: 10, streamingStartTimeLimitSeconds: 0 } },
      verify: async (result) => ({ correct: result.stdout.trim() === secret, inTime: true, details: '' }),
    };
  },
};

const dataDir = mkdtempSync(join(tmpdir(), 'horde-bench-'));
const store = await openStore({ client: 'sqlite', filename: join(dataDir, 'validator.sqlite') });
const validator = await withWasmSigning(await loadHotkey({ uri: '//BenchValidator' }));
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
const stats = await ask('stats');
await store.close();
rmSync(dataDir, { recursive: true, force: true });
worker.postMessage('close');

const MiB = 1024 * 1024;
const results = {
  benchmark: 'validator-batch',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: +(totalmem() / 1024 ** 3).toFixed(1), platform: `${platform()} ${release()}`, node: process.version },
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
  memory: { peakRssMiB: Math.round(peakRss / MiB), peakHeapUsedMiB: Math.round(peakHeap / MiB), rssBeforeMiB: Math.round(memoryBefore.rss / MiB) },
  target: { overheadSeconds: 5, peakRssMiB: 1024 },
};
results.pass = results.batch.overheadSeconds < 5 && results.memory.peakRssMiB < 1024 && results.batch.correct === results.setup.jobs;

console.log(`validator-batch: ${MINERS} miners × ${EXECUTORS} executors = ${MINERS * EXECUTORS} jobs (${cpus().length} CPUs)`);
console.table({
  'batch overhead (s)': { value: results.batch.overheadSeconds, target: '< 5' },
  'wall incl. connect + manifests (s)': { value: +(wallMs / 1000).toFixed(3), target: '' },
  'jobs verified correct': { value: results.batch.correct, target: MINERS * EXECUTORS },
  'peak RSS, whole process (MiB)': { value: results.memory.peakRssMiB, target: '< 1024' },
  'peak heap used, validator thread (MiB)': { value: results.memory.peakHeapUsedMiB, target: '' },
});
console.log(results.pass ? 'PASS' : 'FAIL');
mkdirSync(join(here, '../results'), { recursive: true });
writeFileSync(join(here, '../results/validator-batch.json'), `${JSON.stringify(results, null, 2)}\n`);
