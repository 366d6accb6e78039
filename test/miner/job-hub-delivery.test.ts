/**
 * The miner's delivery of job messages to a validator when a send fails on a connection that still
 * reports itself open (a socket write can fail before its close is seen). The hub must not retry
 * that connection in a loop: the message stays queued, one log line says so, and the validator's
 * next connection gets it. Real store (SQLite), real executor pool and local executor manager;
 * the validator connection is a `ValidatorPeer` whose writes fail, which a real socket does only
 * by chance.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../core/src/contracts/index.js';
import { createMetricsRegistry } from '../../core/src/metrics/index.js';
import type { ValidatorPeer } from '../../core/src/miner/jobs/active-job.js';
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

/** A validator connection: open as far as it knows, its writes failing while `failing` is set. */
class Peer implements ValidatorPeer {
  readonly sent: MinerToValidatorMessage[] = [];
  attempts = 0;
  constructor(
    readonly validatorHotkey: string,
    readonly id: number,
    public failing: boolean,
  ) {}
  isReady(): boolean {
    return true;
  }
  send(message: MinerToValidatorMessage): Promise<boolean> {
    this.attempts += 1;
    // As `ws` reports a write: in a later turn of the event loop.
    return new Promise((resolve) =>
      setImmediate(() => {
        if (!this.failing) this.sent.push(message);
        resolve(!this.failing);
      }),
    );
  }
}

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

describe('JobHub delivery', () => {
  it('stops after a failed send on a connection that still says it is open, keeps the message and logs once', async () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as { level: number; msg: string });
          done();
        },
      }),
    );
    const clock = new SystemClock();
    const db: Store = await openStore({ client: 'sqlite', filename: ':memory:' });
    cleanup.push(() => db.close());
    const store = createMinerStore(db.db, () => clock.now());
    const manager = new LocalExecutorManager({ executorClass: CLASS, executors: 1, killGraceMs: 500, logger });
    const pool = new ExecutorPool({ manager, clock, logger });
    cleanup.push(() => pool.close());
    const metrics = new MinerMetrics(
      createMetricsRegistry({ defaultMetrics: false }),
      () => pool.usage(),
      () => 0,
    );
    const miner = await testHotkey('//DeliveryMiner');
    const validator = await testHotkey('//DeliveryValidator');
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
      // An executor that idles: this test is about the validator side only.
      launch: () => ({ argv: [process.execPath, '-e', 'setInterval(() => {}, 1000)'], env: {} }),
      spinUpSeconds: () => 0,
      startupTimeLimitSeconds: 30,
      capacityWaitMs: 0,
    });
    cleanup.push(() => hub.close());

    const broken = new Peer(validator.ss58, 1, true);
    hub.peerOpened(broken);
    hub.attach(broken);
    const jobUuid = randomUUID();
    const started = createJobStartedReceipt(
      { jobUuid, minerHotkey: miner.ss58, executorClass: CLASS, isOrganic: false, ttl: 60 },
      validator,
    );
    await hub.initialJobRequest(broken, miner.ss58, {
      message_type: 'V0InitialJobRequest',
      job_uuid: jobUuid,
      executor_class: CLASS,
      docker_image: 'busybox',
      job_started_receipt_payload: started.payload,
      job_started_receipt_signature: started.validator_signature,
    });

    // The accept could not be written. One try, not a loop on the same connection.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(broken.attempts).toBe(1);
    const warnings = lines.filter((line) => line.msg === 'could not send to the validator; messages kept for its reconnect');
    expect(warnings).toHaveLength(1);
    expect(
      hub
        .activeJobs()
        .find((job) => job.jobUuid === jobUuid)
        ?.outbox.map((m) => m.message_type),
    ).toEqual(['V0AcceptJobRequest']);

    // The validator connects again: the kept message reaches it.
    const again = new Peer(validator.ss58, 2, false);
    hub.peerOpened(again);
    hub.attach(again);
    await expect.poll(() => again.sent.map((m) => m.message_type), { timeout: 2000 }).toEqual(['V0AcceptJobRequest']);
    expect(broken.attempts).toBe(1);
  });
});
