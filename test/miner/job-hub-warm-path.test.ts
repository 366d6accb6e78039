/**
 * The warm path of a job through the miner: the job request goes to the executor, and the result
 * to the validator, without waiting for the status write of that step (a store transaction was a
 * large part of a no-op job's time). What must still hold, tested here with a `running` write the
 * store takes its time over: the job's writes land in the order they were made (a late `running`
 * never overwrites `finished`), the executor's slot is released only once the end is recorded,
 * and the miner's drain waits for the writes still on their way (it closes its store after).
 * Real store (SQLite), real executor pool and local executor manager; the validator and executor
 * connections are peers that record what they were sent.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../core/src/contracts/index.js';
import { createMetricsRegistry } from '../../core/src/metrics/index.js';
import type { ExecutorPeer, ValidatorPeer } from '../../core/src/miner/jobs/active-job.js';
import { stakeProportionalPolicy } from '../../core/src/miner/capacity/stake-share.js';
import { JobHub } from '../../core/src/miner/jobs/job-hub.js';
import { MinerMetrics } from '../../core/src/miner/metrics.js';
import { ExecutorPool } from '../../core/src/miner/pool/executor-pool.js';
import { createMinerStore } from '../../core/src/miner/store/index.js';
import { createJobStartedReceipt, type MinerToValidatorMessage } from '../../core/src/protocol/index.js';
import { SystemClock } from '../../core/src/time/clock.js';
import { openStore } from '../../core/src/store/index.js';
import { testHotkey } from '../../core/src/testkit/index.js';
import { LocalExecutorManager } from '../../executor-managers/local/src/local-executor-manager.js';

const CLASS = 'always_on.test';

class Peer implements ValidatorPeer {
  readonly sent: MinerToValidatorMessage[] = [];
  constructor(
    readonly validatorHotkey: string,
    readonly id: number,
  ) {}
  isReady(): boolean {
    return true;
  }
  send(message: MinerToValidatorMessage): Promise<boolean> {
    this.sent.push(message);
    return Promise.resolve(true);
  }
}

class Executor implements ExecutorPeer {
  readonly sent: string[] = [];
  /** Settles each send: at once, unless the test holds them. */
  handOff: Promise<void> = Promise.resolve();
  send(message: { message_type: string }): Promise<boolean> {
    this.sent.push(message.message_type);
    return this.handOff.then(() => true);
  }
  close(): void {}
}

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

describe('JobHub warm path', () => {
  it('relays the job request and the result before their writes land, keeps the writes in order, and drains them', async () => {
    const logger = pino({ level: 'silent' });
    const clock = new SystemClock();
    const db: Store = await openStore({ client: 'sqlite', filename: ':memory:' });
    cleanup.push(() => db.close());
    const store = createMinerStore(db.db, () => clock.now());
    // The store takes its time over `running`: held until the test lets it through.
    let letRunningThrough!: () => void;
    const runningHeld = new Promise<void>((resolve) => (letRunningThrough = resolve));
    const setStatus = store.jobs.setStatus.bind(store.jobs);
    const writesStarted: string[] = [];
    store.jobs.setStatus = async (jobUuid, status, ...rest) => {
      writesStarted.push(status);
      if (status === 'running') await runningHeld;
      return setStatus(jobUuid, status, ...rest);
    };
    const manager = new LocalExecutorManager({ executorClass: CLASS, executors: 1, killGraceMs: 500, logger });
    const pool = new ExecutorPool({ manager, clock, logger });
    cleanup.push(() => pool.close());
    const released: string[] = [];
    const release = pool.release.bind(pool);
    pool.release = (token) => {
      released.push(token);
      release(token);
    };
    const metrics = new MinerMetrics(
      createMetricsRegistry({ defaultMetrics: false }),
      () => pool.usage(),
      () => 0,
    );
    const miner = await testHotkey('//WarmPathMiner');
    const validator = await testHotkey('//WarmPathValidator');
    const hub = new JobHub({
      store,
      pool,
      capacityPolicy: stakeProportionalPolicy(),
      stakeOf: async () => 0,
      manager,
      receipts: null,
      hotkeys: new Map([[miner.ss58, miner]]),
      clock,
      logger,
      metrics,
      executorAddress: () => 'ws://127.0.0.1:1',
      // An executor process that idles: its messages are played by the test.
      launch: () => ({ argv: [process.execPath, '-e', 'setInterval(() => {}, 1000)'], env: {} }),
      spinUpSeconds: () => 0,
      startupTimeLimitSeconds: 30,
      capacityWaitMs: 0,
    });
    cleanup.push(() => hub.close());

    const peer = new Peer(validator.ss58, 1);
    hub.peerOpened(peer);
    hub.attach(peer);
    const jobUuid = randomUUID();
    const started = createJobStartedReceipt(
      { jobUuid, minerHotkey: miner.ss58, executorClass: CLASS, isOrganic: false, ttl: 60 },
      validator,
    );
    await hub.initialJobRequest(peer, miner.ss58, {
      message_type: 'V0InitialJobRequest',
      job_uuid: jobUuid,
      executor_class: CLASS,
      docker_image: 'busybox',
      job_started_receipt_payload: started.payload,
      job_started_receipt_signature: started.validator_signature,
    });
    const job = hub.activeJobs().find((j) => j.jobUuid === jobUuid)!;
    const executor = new Executor();
    await hub.executorConnected(job, executor, '127.0.0.1');
    await hub.executorMessage(job, { message_type: 'V0ExecutorReadyRequest', job_uuid: jobUuid }, '127.0.0.1');

    // The job request reaches the executor while `running` is still being written; that write
    // starts only once the executor's socket took the request (a write holds SQLite's event loop).
    let handOff!: () => void;
    executor.handOff = new Promise<void>((resolve) => (handOff = resolve));
    const passing = hub.jobRequest(peer, {
      message_type: 'V0JobRequest',
      job_uuid: jobUuid,
      executor_class: CLASS,
      docker_image: 'busybox',
      docker_run_options_preset: 'none',
      docker_run_cmd: ['true'],
      env: {},
    });
    await expect.poll(() => executor.sent).toEqual(['V0InitialJobRequest', 'V0JobRequest']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(writesStarted).not.toContain('running');
    handOff();
    await expect.poll(() => writesStarted).toContain('running');

    // The result reaches the validator before its write, which waits behind `running`; the slot
    // is released only once the end is recorded.
    const ending = hub.executorMessage(
      job,
      { message_type: 'V0JobFinishedRequest', job_uuid: jobUuid, docker_process_stdout: '', docker_process_stderr: '' },
      '127.0.0.1',
    );
    await expect.poll(() => peer.sent.map((m) => m.message_type)).toContain('V0JobFinishedRequest');
    expect(released).toEqual([]);
    const row = () => store.jobs.get(jobUuid);
    expect((await row())?.status).toBe('waiting_for_payload');

    // The miner stopping now waits for both writes.
    let drained = false;
    const draining = hub.drain().then(() => (drained = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(drained).toBe(false);

    letRunningThrough();
    await draining;
    expect(await passing).toBeNull();
    await ending;
    expect((await row())?.status).toBe('finished');
    const history = (await db.db('miner_job_status_history').where({ job_uuid: jobUuid }).orderBy('id').select('status')) as Array<{
      status: string;
    }>;
    expect(history.map((h) => h.status)).toEqual(['waiting_for_executor', 'waiting_for_payload', 'running', 'finished']);
    expect(released).toEqual([job.token]);
  });
});
