/**
 * `horde validator --workers 1` × 3 over one real PostgreSQL (the "same command on several
 * machines" form): three worker processes of one validator hotkey, twelve SimulatedMiners over
 * real websockets, a LocalChain in the same database with commit-reveal (hash commits the
 * validator reveals) and no weights rate limit, so a second commit or reveal would land and show.
 *
 * Mid-batch the leader is killed with SIGKILL while it runs batch tasks whose job requests reached
 * the miners. Then: another worker leads and resumes the batch, the dead worker's tasks run again
 * on the others, every miner's job is stored once and final, every queue task completed, and the
 * chain's extrinsic log shows the cycle's weights committed once and revealed once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { LocalChain } from '../../core/src/chain/local/local-chain.js';
import type { Store } from '../../core/src/contracts/index.js';
import { loadHotkey, type Hotkey } from '../../core/src/keys/index.js';
import { openStore } from '../../core/src/store/index.js';
import { SimulatedMiner } from '../../core/src/testkit/index.js';
import { ValidatorStore } from '../../core/src/validator/store.js';
import { BatchTaskStore } from '../../core/src/validator/workers/task-store.js';
import { requireBuiltCli } from '../support/miner-harness.js';
import { pgDatabase, type TestDatabase } from '../support/services.js';
import { processAlive, waitUntil } from './processes.js';
import { registerLocalSubnet } from '../support/local-subnet.js';

const CLI = fileURLToPath(new URL('../../core/bin/horde.js', import.meta.url));
const ECHO_PLUGIN = fileURLToPath(new URL('../support/echo-generator-plugin.mjs', import.meta.url));
const NETUID = 12;
const BLOCK_MS = 200;
const CYCLE_BLOCKS = 150; // 30 s: room for the batch, the kill, and the retried tasks
const MINERS = 12;
const WORKERS = 3;

const dir = mkdtempSync(join(tmpdir(), 'horde-validator-workers-'));
let db: TestDatabase;
let store: Store;
let validator: Hotkey;
const miners: SimulatedMiner[] = [];
const workers: Array<{ child: ChildProcess; output: string[] }> = [];

beforeAll(async () => {
  requireBuiltCli();
  db = await pgDatabase('horde_workers_kill');
  store = await openStore({ client: 'postgres', url: db.url });
  validator = await loadHotkey({ uri: '//WorkersValidator' });
  await LocalChain.init(store, {
    blockTimeMs: BLOCK_MS,
    subnets: [
      {
        netuid: NETUID,
        tempo: 9,
        servingRateLimit: 0,
        weightsRateLimit: 0,
        commitRevealEnabled: true,
        commitRevealVersion: 3,
        revealPeriodEpochs: 1,
      },
    ],
  });
  const served: Array<{ hotkey: string; port: number }> = [];
  for (let i = 0; i < MINERS; i++) {
    const hotkey = await loadHotkey({ uri: `//WorkersMiner${i}` });
    // Jobs take 6 s: long enough to kill a worker while its jobs run.
    const miner = await SimulatedMiner.start({ hotkey, manifest: { 'always_on.test': 1 }, executionDelayMs: 6_000 });
    miners.push(miner);
    served.push({ hotkey: hotkey.ss58, port: miner.port });
  }
  await registerLocalSubnet(store, { netuid: NETUID, validator: validator.ss58, miners: served });
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      role: 'validator',
      hotkey: '//WorkersValidator',
      dataDir: dir,
      store: { client: 'postgres', url: db.url },
      chain: { network: 'local', netuid: NETUID },
      validator: {
        cycleLengthBlocks: CYCLE_BLOCKS,
        batchOffsetBlocks: 1,
        jobResponseSlackSeconds: 10,
        weights: { attempts: 3, retryDelaySeconds: 1, revealEveryBlocks: 2 },
        receiptTransfer: { enabled: false },
        // One miner per task and four tasks per worker: twelve tasks fill the three workers exactly.
        workers: { minersPerTask: 1, tasksPerWorker: 4, taskRetries: 2, pollSeconds: 0.5 },
      },
      log: { level: process.env['HORDE_TEST_LOG_LEVEL'] ?? 'info', pretty: false },
      plugins: [
        { name: '@horde/plugin-hardware-classes', config: { classes: ['always_on.test'] } },
        ECHO_PLUGIN,
        { name: '@horde/plugin-scoring-classic', config: { classWeights: { 'always_on.test': 1 } } },
      ],
    }),
  );
}, 120_000);

afterAll(async () => {
  for (const { child } of workers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(miners.map((miner) => miner.close()));
  await store?.close();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

function startWorker(): { child: ChildProcess; output: string[] } {
  const child = spawn(process.execPath, [CLI, 'validator', '--config', join(dir, 'config.json'), '--workers', '1'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const worker = { child, output };
  workers.push(worker);
  return worker;
}

const workerName = (child: ChildProcess) => `${hostname()}:${child.pid}`;

describe('validator workers on PostgreSQL', () => {
  it('loses no job and sets the cycle weights once when the leader is killed -9 mid-batch', async () => {
    // A failure shows what each worker logged (the processes' own view of the batch).
    onTestFailed(() => {
      if (process.env['HORDE_TEST_LOG_DIR'])
        for (const [i, worker] of workers.entries())
          writeFileSync(join(process.env['HORDE_TEST_LOG_DIR'], `worker-${i}.log`), worker.output.join(''));
      for (const [i, worker] of workers.entries())
        console.error(`--- worker ${i} (pid ${worker.child.pid}) ---\n${worker.output.join('').split('\n').slice(-60).join('\n')}`);
    });
    for (let i = 0; i < WORKERS; i++) startWorker();
    const tasks = new BatchTaskStore(store, validator.ss58);
    const validatorStore = new ValidatorStore(store, validator.ss58);

    // The leader says so in its log; it runs tasks like every worker.
    const leader = await (async () => {
      let found: (typeof workers)[number] | undefined;
      await waitUntil(
        'a worker leads',
        () => (found = workers.find((w) => w.output.join('').includes('this worker now leads'))) !== undefined,
        60_000,
      );
      return found!;
    })();
    const batchCycle = await (async () => {
      let cycle: number | undefined;
      await waitUntil(
        'the batch runs on the leader',
        async () => {
          const row = await store
            .db('validator_batch_tasks')
            .where({ validator_hotkey: validator.ss58, worker_name: workerName(leader.child) })
            .whereNull('result')
            .first();
          cycle = row ? Number(row.cycle) : undefined;
          return cycle !== undefined;
        },
        60_000,
      );
      return cycle!;
    })();
    // Twelve tasks, four at a time per worker: once all are taken, the leader holds four.
    await waitUntil('every task is taken', async () => (await tasks.tasks(batchCycle)).every((task) => task.workerPid !== null), 30_000);
    // Its job requests reached the miners: the jobs are executing now.
    const leaderTasks = (await tasks.tasks(batchCycle)).filter((task) => task.workerName === workerName(leader.child));
    const leaderMiners = new Set(leaderTasks.flatMap((task) => task.targets.map((target) => target.hotkey)));
    await waitUntil(
      "the leader's jobs run on its miners",
      () => miners.filter((m) => leaderMiners.has(m.hotkey.ss58)).every((m) => m.jobs.length > 0),
      30_000,
    );
    expect(leaderMiners.size).toBe(MINERS / WORKERS);

    leader.child.kill('SIGKILL');
    await waitUntil('the leader is gone', () => !processAlive(leader.child.pid!), 5_000);

    // Another worker leads, resumes the batch, and the dead worker's tasks run again elsewhere.
    await waitUntil('the batch is finished', async () => (await validatorStore.batch(batchCycle))?.status === 'finished', 60_000);
    const survivors = workers.filter((w) => w !== leader);
    expect(survivors.some((w) => w.output.join('').includes('this worker now leads'))).toBe(true);
    expect(survivors.some((w) => w.output.join('').includes('resuming the batch a previous leader planned'))).toBe(true);

    const finalTasks = await tasks.tasks(batchCycle);
    expect(finalTasks).toHaveLength(MINERS);
    for (const task of finalTasks) {
      expect(task.result, `task ${task.task}`).not.toBeNull();
      expect(task.workerName).not.toBe(workerName(leader.child));
      if (leaderTasks.some((t) => t.task === task.task)) expect(task.attempts).toBeGreaterThanOrEqual(2);
    }
    const queueStates = await store
      .db('pgboss.job')
      .whereIn(
        'id',
        finalTasks.map((task) => task.queueJobId),
      )
      .select('state');
    expect(queueStates.map((row) => row.state as string)).toEqual(Array(MINERS).fill('completed'));

    // No job lost, none twice: one stored outcome per miner, every one final and verified.
    const jobs = await store.db('validator_jobs').where({ validator_hotkey: validator.ss58, cycle: batchCycle });
    expect(jobs).toHaveLength(MINERS);
    expect(new Set(jobs.map((job) => job.miner_hotkey as string)).size).toBe(MINERS);
    for (const job of jobs) {
      expect(['completed', 'failed', 'horde_failed', 'rejected']).toContain(job.status);
      // The dead worker's miners may still be busy with its job when the task runs again: that
      // job ends final too (declined busy), the others are verified.
      if (!leaderMiners.has(job.miner_hotkey as string))
        expect(job.correct, `${job.miner_hotkey}: ${job.status} ${job.details}`).toBe(true);
    }

    // The cycle is scored when the next begins; its weights are committed, then revealed.
    const chain = await LocalChain.open({ store, netuid: NETUID });
    try {
      await waitUntil(
        'the weights of the batch cycle are revealed',
        async () => (await chain.ledger.extrinsics(NETUID, validator.ss58)).some((e) => e.call === 'reveal_weights'),
        90_000,
      );
      for (const worker of survivors) worker.child.kill('SIGTERM');
      await waitUntil('the workers stopped', () => survivors.every((w) => !processAlive(w.child.pid!)), 20_000);

      const landed = (await validatorStore.weightsHistory(100)).filter((row) => row.status === 'committed');
      const extrinsics = await chain.ledger.extrinsics(NETUID, validator.ss58);
      const commits = extrinsics.filter((e) => e.call === 'commit_weights');
      const reveals = extrinsics.filter((e) => e.call === 'reveal_weights');
      // Once per cycle: one commit per cycle that committed, the batch cycle's among them; one reveal per revealed commit.
      expect(landed.filter((row) => row.cycle === batchCycle)).toHaveLength(1);
      expect(commits).toHaveLength(landed.length);
      expect(new Set(landed.map((row) => row.cycle)).size).toBe(landed.length);
      const revealedCommits = await store.db('chain_weight_commits').where({ hotkey: validator.ss58, status: 'revealed' });
      expect(reveals.length).toBeGreaterThanOrEqual(1);
      expect(reveals).toHaveLength(revealedCommits.length);
    } finally {
      await chain.close();
    }
  }, 300_000);
});
