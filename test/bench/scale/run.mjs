#!/usr/bin/env node
// Scale benchmark (issue #18): one validator's synthetic batch against many simulated miners, run
// by 1, 2 and 4 validator workers over one PostgreSQL, so the throughput curve is measured.
//
//   npm run build && node test/bench/scale/run.mjs [--miners=10000] [--executors=16] [--workers=1,2,4]
//                                                  [--miner-processes=4] [--miners-per-task=64] [--tasks-per-worker=4096/(64×executors)]
//                                                  [--timeout=900] [--quick]
//
// Everything real but the chain: the miners are SimulatedMiners (core/src/testkit) in a few child
// processes, each its own websocket server on its own port with its own sr25519 hotkey, answering
// every job at once with the right result; the chain is a LocalChain in the same PostgreSQL
// database with one neuron and one served axon per miner. Each worker count runs the operator's
// command itself, `horde validator --workers N` (N processes for N > 1), with a fresh validator
// hotkey (the only one with a validator permit), and the batch of its cycle starts at once.
//
// Measured per worker count, from what the processes themselves record: the batch time
// (validator_batches), jobs and their outcomes (validator_jobs), the tasks and who ran them
// (validator_batch_tasks), each worker's peak RSS (VmHWM) and CPU seconds (/proc), the CPU seconds
// of the simulated miners and of the PostgreSQL backends serving this database, and the database's
// committed transactions. The floor is the validator's crypto: the sr25519 signatures the batch
// needs (one auth per miner connection, three receipts per job, counted at the miners) at the wasm
// signing rate measured in this run, on min(workers, cores) cores.
import { fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { signaturesPerCpuSecond } from '../lib/floor.mjs';
import { childrenOf, cpuSeconds, peakRssMiB } from '../lib/proc.mjs';
import { DIST, QUICK, ROOT, numberArg, printTable, requireThat, round, writeResults } from '../lib/report.mjs';
import { serviceSetting } from '../lib/services.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const MINERS = numberArg('miners', 10_000, 200);
const EXECUTORS = numberArg('executors', 16, 4);
const MINER_PROCESSES = Math.max(1, Math.min(numberArg('miner-processes', 4, 2), MINERS));
const TIMEOUT_S = numberArg('timeout', 900, 90);
// Tasks of the default 64 miners, as many at a time per worker as make about 4,096 jobs in flight
// (4 at 16 executors): with the default 16 at a time (16,384 jobs), one worker on 2 shared cores
// answered too slowly for the 7 s reservation limit (1,000 × 16: 5,493 of 16,000 jobs
// horde_failed). At quick size, small tasks so that 1 worker runs them in two rounds, 2 in one.
const MINERS_PER_TASK = numberArg('miners-per-task', 64, 25);
const TASKS_PER_WORKER = numberArg('tasks-per-worker', Math.max(1, Math.min(64, Math.round(4096 / (MINERS_PER_TASK * EXECUTORS)))), 4);
const WORKER_COUNTS = (process.argv.find((a) => a.startsWith('--workers='))?.split('=')[1] ?? (QUICK ? '1,2' : '1,2,4'))
  .split(',')
  .map(Number);
const CLASS = 'always_on.test';
const NETUID = 12;
const CORES = cpus().length;
const CLI = join(ROOT, 'core/bin/horde.js');
const ECHO_PLUGIN = join(ROOT, 'test/support/echo-generator-plugin.mjs');
const MINER_PREFIX = 'ScaleMiner';

const { openStore } = await import(join(DIST, 'store/index.js'));
const { LocalChain } = await import(join(DIST, 'chain/local/local-chain.js'));
const { loadHotkey } = await import(join(DIST, 'keys/index.js'));

const scriptStarted = performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const dataDir = mkdtempSync(join(tmpdir(), 'horde-bench-scale-'));

// A database of its own on the shared test PostgreSQL (other runs use theirs), dropped at the end.
const adminUrl = serviceSetting('HORDE_TEST_PG_URL', 'postgres://postgres@127.0.0.1:55432/postgres');
const dbName = `horde_bench_scale_${Date.now().toString(36)}`;
const admin = new pg.Client({ connectionString: adminUrl });
try {
  await admin.connect();
} catch (error) {
  console.error(`the test PostgreSQL (${adminUrl}) does not answer (${error.message}): run bash test/services/start.sh`);
  process.exit(1);
}
await admin.query(`CREATE DATABASE "${dbName}"`);
const dbUrl = (() => {
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  return url.toString();
})();

const minerProcesses = [];
let store;
let chain;
const cleanups = [];
async function cleanUp() {
  for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
  for (const child of minerProcesses) if (child.connected) child.send('close');
  await Promise.all(minerProcesses.map((child) => (child.exitCode === null ? once(child, 'exit') : null)));
  await chain?.close().catch(() => undefined);
  await store?.close().catch(() => undefined);
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch(() => undefined);
  await admin.end().catch(() => undefined);
  // The validators' logs stay for a broken run (or HORDE_BENCH_KEEP=1), to see what went wrong.
  if (process.exitCode || process.env.HORDE_BENCH_KEEP) console.log(`the validators' configs and logs are in ${dataDir}`);
  else rmSync(dataDir, { recursive: true, force: true });
}

/** Sends `message` to a miner process and resolves with its next message that has `key`. */
function ask(child, message, key) {
  return new Promise((resolve, reject) => {
    const onMessage = (reply) => {
      if (!(key in reply)) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(reply);
    };
    const onExit = (code) => reject(new Error(`a miner process exited (${code}) before it answered`));
    child.on('message', onMessage);
    child.once('exit', onExit);
    if (message) child.send(message);
  });
}

async function minerStats() {
  const replies = await Promise.all(minerProcesses.map((child) => ask(child, 'stats', 'stats')));
  const sum = { started: 0, accepted: 0, finished: 0, jobs: 0, cpuSeconds: 0, rssMiB: 0 };
  for (const { stats } of replies) {
    sum.started += stats.receipts.started;
    sum.accepted += stats.receipts.accepted;
    sum.finished += stats.receipts.finished;
    sum.jobs += stats.jobs;
    sum.cpuSeconds += stats.cpuSeconds;
    sum.rssMiB += stats.rssMiB;
  }
  return sum;
}

/** CPU seconds of the PostgreSQL backends of this database, by pid (the sampler's own excluded). */
async function dbBackendCpu(sampler) {
  const { rows } = await sampler.query('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [dbName]);
  const out = new Map();
  for (const { pid } of rows) {
    const cpu = cpuSeconds(pid);
    if (cpu !== null) out.set(pid, cpu);
  }
  return out;
}

async function committedTransactions(sampler) {
  const { rows } = await sampler.query('SELECT xact_commit FROM pg_stat_database WHERE datname = $1', [dbName]);
  return Number(rows[0]?.xact_commit ?? 0);
}

/** The validator's worker processes: the supervisor's children, or the process itself for one worker. */
function workerPids(child, workers) {
  if (workers === 1) return [child.pid];
  return childrenOf(child.pid);
}

async function stopValidator(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const exited = once(child, 'exit');
  if ((await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)])) === false) {
    child.kill('SIGKILL');
    for (const pid of childrenOf(child.pid)) process.kill(pid, 'SIGKILL');
    await exited;
  }
}

let previousValidator = null;
/** One batch of a fresh validator hotkey run by `workers` workers; its figures. */
async function runWith(workers) {
  const hotkey = await loadHotkey({ uri: `//ScaleValidator${workers}` });
  // The only validator with a permit: its batch slot is the cycle's first block, long past.
  if (previousValidator) await chain.ledger.setValidatorPermit(NETUID, previousValidator, false);
  await chain.ledger.registerNeuron({ netuid: NETUID, hotkey: hotkey.ss58, coldkey: hotkey.ss58, stake: 60_000, validatorPermit: true });
  previousValidator = hotkey.ss58;
  const runDir = join(dataDir, `validator-${workers}`);
  const configPath = join(dataDir, `validator-${workers}.json`);
  writeFileSync(
    configPath,
    JSON.stringify({
      role: 'validator',
      hotkey: `//ScaleValidator${workers}`,
      dataDir: runDir,
      store: { client: 'postgres', url: dbUrl },
      chain: { network: 'local', netuid: NETUID },
      validator: {
        // One cycle for the whole benchmark: the batch starts at once and nothing else is due.
        cycleLengthBlocks: 100_000,
        batchOffsetBlocks: 1,
        receiptTransfer: { enabled: false },
        workers: { minersPerTask: MINERS_PER_TASK, tasksPerWorker: TASKS_PER_WORKER, pollSeconds: 0.5 },
      },
      log: { level: process.env.HORDE_BENCH_LOG_LEVEL ?? 'warn', pretty: false },
      plugins: [
        { name: '@horde/plugin-hardware-classes', config: { classes: [CLASS] } },
        ECHO_PLUGIN,
        { name: '@horde/plugin-scoring-classic', config: { classWeights: { [CLASS]: 1 } } },
      ],
    }),
  );
  const logPath = join(dataDir, `validator-${workers}.log`);
  const log = openSync(logPath, 'w');
  const sampler = new pg.Client({ connectionString: dbUrl });
  await sampler.connect();
  const before = await minerStats();
  const spawnedAt = Date.now();
  const loadAtStart = loadavg()[0];
  const child = spawn(process.execPath, [CLI, 'validator', '--config', configPath, '--workers', String(workers)], {
    cwd: dataDir,
    stdio: ['ignore', log, log],
  });
  cleanups.push(() => stopValidator(child));
  try {
    // Poll the batch row; when it appears, take the CPU baselines; keep the backends' last CPU.
    let batch = null;
    let baseline = null;
    const backendFirst = new Map();
    const backendLast = new Map();
    const workerLast = new Map();
    const deadline = Date.now() + TIMEOUT_S * 1000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`horde validator --workers ${workers} exited ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`no finished batch within ${TIMEOUT_S} s`);
      batch = await sampler
        .query('SELECT * FROM validator_batches WHERE validator_hotkey = $1', [hotkey.ss58])
        .then((r) => r.rows[0] ?? null)
        .catch(() => null); // the table appears with the first worker's migrations
      if (batch && !baseline) {
        baseline = { transactions: await committedTransactions(sampler), workerCpu: new Map() };
        for (const pid of workerPids(child, workers)) baseline.workerCpu.set(pid, cpuSeconds(pid) ?? 0);
        for (const [pid, cpu] of await dbBackendCpu(sampler)) backendFirst.set(pid, cpu);
      }
      if (baseline) {
        for (const [pid, cpu] of await dbBackendCpu(sampler)) {
          // A backend first seen during the batch was opened by it: all its CPU is the batch's.
          if (!backendFirst.has(pid)) backendFirst.set(pid, 0);
          backendLast.set(pid, cpu);
        }
        for (const pid of workerPids(child, workers)) workerLast.set(pid, cpuSeconds(pid) ?? workerLast.get(pid) ?? 0);
      }
      if (batch && batch.status !== 'running') break;
      await sleep(250);
    }
    const pids = workerPids(child, workers);
    const rss = pids.map((pid) => peakRssMiB(pid) ?? 0);
    const transactions = (await committedTransactions(sampler)) - baseline.transactions;
    const after = await minerStats();
    const jobs = await sampler.query(
      'SELECT status, correct, count(*)::int AS n FROM validator_jobs WHERE validator_hotkey = $1 GROUP BY status, correct',
      [hotkey.ss58],
    );
    // Why jobs did not complete (on an overloaded machine: deadlines), the most common first.
    const failures = await sampler.query(
      `SELECT status, failure_stage AS stage, failure_reason AS reason, count(*)::int AS n FROM validator_jobs
       WHERE validator_hotkey = $1 AND status <> 'completed' GROUP BY 1, 2, 3 ORDER BY n DESC LIMIT 5`,
      [hotkey.ss58],
    );
    const tasks = await sampler.query(
      'SELECT worker_name, count(*)::int AS n, max(attempts)::int AS attempts FROM validator_batch_tasks WHERE validator_hotkey = $1 GROUP BY worker_name',
      [hotkey.ss58],
    );
    const stopStarted = Date.now();
    await stopValidator(child);
    const stopSeconds = (Date.now() - stopStarted) / 1000;
    const batchSeconds = (Number(batch.finished_at) - Number(batch.started_at)) / 1000;
    const jobCount = jobs.rows.reduce((n, row) => n + row.n, 0);
    const correct = jobs.rows.filter((row) => row.correct === true).reduce((n, row) => n + row.n, 0);
    const outcomes = {};
    for (const row of jobs.rows) outcomes[row.status] = (outcomes[row.status] ?? 0) + row.n;
    const receipts = after.started + after.accepted + after.finished - (before.started + before.accepted + before.finished);
    const signatures = receipts + Number(batch.miners); // one auth signature per miner connection
    const workerCpu = [...workerLast].reduce((sum, [pid, cpu]) => sum + cpu - (baseline.workerCpu.get(pid) ?? 0), 0);
    const dbCpu = [...backendLast].reduce((sum, [pid, cpu]) => sum + cpu - (backendFirst.get(pid) ?? 0), 0);
    const minerCpu = after.cpuSeconds - before.cpuSeconds;
    return {
      workers,
      status: batch.status,
      miners: Number(batch.miners),
      jobs: jobCount,
      correct,
      outcomes,
      failures: failures.rows,
      // The machine is shared: the 1-minute load average when the command started and at the end.
      loadAverage: { start: round(loadAtStart, 1), end: round(loadavg()[0], 1) },
      batchSeconds: round(batchSeconds, 2),
      // The command's start (node, plugins, migrations check, chain, pg-boss) and its clean stop.
      startupSeconds: round((Number(batch.started_at) - spawnedAt) / 1000, 1),
      stopSeconds: round(stopSeconds, 1),
      jobsPerSecond: round(correct / batchSeconds, 0),
      tasks: tasks.rows.reduce((n, row) => n + row.n, 0),
      tasksByWorker: Object.fromEntries(tasks.rows.map((row) => [row.worker_name ?? 'none', row.n])),
      maxAttempts: Math.max(0, ...tasks.rows.map((row) => row.attempts)),
      peakRssMiBPerWorker: rss,
      cpuSeconds: { workers: round(workerCpu, 1), miners: round(minerCpu, 1), database: round(dbCpu, 1) },
      cpuBusyPercent: round((100 * (workerCpu + minerCpu + dbCpu)) / (batchSeconds * CORES), 0),
      dbTransactions: transactions,
      dbTransactionsPerJob: round(transactions / Math.max(1, jobCount), 3),
      dbCpuMsPerJob: round((1000 * dbCpu) / Math.max(1, jobCount), 3),
      workerCpuMsPerJob: round((1000 * workerCpu) / Math.max(1, jobCount), 3),
      signatures,
    };
  } catch (error) {
    console.error(`--- horde validator --workers ${workers} (last lines of its log) ---`);
    console.error(readFileSync(logPath, 'utf8').split('\n').slice(-40).join('\n'));
    throw error;
  } finally {
    await stopValidator(child);
    closeSync(log);
    await sampler.end().catch(() => undefined);
  }
}

try {
  const started = performance.now();
  // 1. The miners, in a few processes (they stand for thousands of machines).
  const share = Math.ceil(MINERS / MINER_PROCESSES);
  for (let p = 0; p < MINER_PROCESSES; p++) {
    const from = p * share;
    const count = Math.min(share, MINERS - from);
    if (count <= 0) break;
    minerProcesses.push(
      fork(join(here, 'miners.mjs'), [MINER_PREFIX, String(from), String(count), String(EXECUTORS), CLASS], { stdio: 'inherit' }),
    );
  }
  // Meanwhile the store's migrations and the chain, which need no miner yet.
  const chainReady = (async () => {
    store = await openStore({ client: 'postgres', url: dbUrl });
    await LocalChain.init(store, { blockTimeMs: 1000, subnets: [{ netuid: NETUID, tempo: 99, servingRateLimit: 0, weightsRateLimit: 0 }] });
    chain = await LocalChain.open({ store, netuid: NETUID });
  })();
  const listening = (await Promise.all(minerProcesses.map((child) => ask(child, null, 'ready')))).flatMap((reply) => reply.miners);
  const minersUpSeconds = (performance.now() - started) / 1000;
  await chainReady;

  // 2. The chain: one neuron and one served axon per miner.
  const chainStarted = performance.now();
  // In writes of 1,000 (each neuron checked as registerNeuron and serveAxon check it).
  for (let i = 0; i < listening.length; i += 1000) {
    await chain.ledger.registerNeurons(
      listening.slice(i, i + 1000).map((miner) => ({
        netuid: NETUID,
        hotkey: miner.hotkey,
        coldkey: miner.hotkey,
        axon: { ip: '127.0.0.1', port: miner.port, protocol: 4, version: 0 },
      })),
    );
  }
  const chainSeconds = (performance.now() - chainStarted) / 1000;
  console.log(
    `scale: ${MINERS} miners × ${EXECUTORS} executors in ${minerProcesses.length} processes (up in ${round(minersUpSeconds)} s), ` +
      `${MINERS} neurons on the LocalChain (${round(chainSeconds)} s); workers ${WORKER_COUNTS.join(', ')}; ${CORES} cores`,
  );

  // 3. The floor's rate, measured here before the runs, per CPU-second (the machine is shared).
  const signRate = await signaturesPerCpuSecond(QUICK ? 0.3 : 1);

  // 4. One batch per worker count.
  const runs = [];
  for (const workers of WORKER_COUNTS) {
    const run = await runWith(workers);
    const floorSeconds = run.signatures / (signRate * Math.min(workers, CORES));
    runs.push({ ...run, cryptoFloorSeconds: round(floorSeconds, 2), overFloor: round(run.batchSeconds / floorSeconds, 1) });
    console.log(
      `  ${workers} worker(s): ${run.correct} of ${run.jobs} jobs correct in ${run.batchSeconds} s ` +
        `(command up in ${run.startupSeconds} s, stopped in ${run.stopSeconds} s)`,
    );
  }

  printTable(
    `scale: one batch, ${MINERS} miners × ${EXECUTORS} executors (${MINERS * EXECUTORS} jobs), ${CORES} cores shared by validator, miners and PostgreSQL`,
    runs.map((run) => ({
      workers: run.workers,
      'jobs ok': run.correct,
      'jobs/s': run.jobsPerSecond,
      'batch s': run.batchSeconds,
      'peak RSS/worker MiB': Math.max(...run.peakRssMiBPerWorker),
      'CPU s workers': run.cpuSeconds.workers,
      'CPU s miners': run.cpuSeconds.miners,
      'CPU s db': run.cpuSeconds.database,
      'CPU busy %': run.cpuBusyPercent,
      'db tx/job': run.dbTransactionsPerJob,
      'floor s': run.cryptoFloorSeconds,
      'batch/floor': run.overFloor,
      'load avg': run.loadAverage.start,
    })),
  );
  console.log(
    `floor: ${Math.round(signRate)} sr25519 signatures per CPU-second (wasm, measured now) × min(workers, ${CORES} cores); ` +
      `signatures = 1 auth per miner + 3 receipts per job, counted at the miners`,
  );

  writeResults('scale', {
    setup: {
      miners: MINERS,
      executorsPerMiner: EXECUTORS,
      jobs: MINERS * EXECUTORS,
      minerProcesses: minerProcesses.length,
      minersUpSeconds: round(minersUpSeconds),
      chainSetupSeconds: round(chainSeconds),
      workerSettings: { minersPerTask: MINERS_PER_TASK, tasksPerWorker: TASKS_PER_WORKER, pollSeconds: 0.5 },
    },
    floor: { signaturesPerCpuSecond: Math.round(signRate) },
    runs,
  });
  for (const run of runs) {
    requireThat(run.status === 'finished', `the batch of ${run.workers} worker(s) ended ${run.status}`);
    // Jobs that ran past their deadlines on an overloaded machine are a figure; none verified means it broke.
    requireThat(run.correct > 0, `no job verified correct with ${run.workers} worker(s)`);
    if (run.correct < MINERS * EXECUTORS)
      console.warn(
        `${run.workers} worker(s): only ${run.correct} of ${MINERS * EXECUTORS} jobs verified correct ` +
          `(outcomes ${JSON.stringify(run.outcomes)}; most common failures ${JSON.stringify(run.failures)})`,
      );
  }
} catch (error) {
  console.error(`benchmark broken: ${error.stack ?? error}`);
  process.exitCode = 1;
} finally {
  const cleanupStarted = performance.now();
  await cleanUp();
  console.log(
    `cleaned up in ${round((performance.now() - cleanupStarted) / 1000)} s; ${round((performance.now() - scriptStarted) / 1000)} s in all`,
  );
}
