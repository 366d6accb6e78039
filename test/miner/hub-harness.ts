/**
 * A JobHub as the miner builds one, for tests of its job path: a real store (SQLite in memory),
 * the real executor pool and local executor manager (its agents are idle node processes: the
 * test plays their messages), and a validator peer that records what it was sent.
 */
import pino from 'pino';
import type { Logger, Store } from '../../core/src/contracts/index.js';
import { createMetricsRegistry } from '../../core/src/metrics/index.js';
import { stakeProportionalPolicy } from '../../core/src/miner/capacity/stake-share.js';
import type { ExecutorPeer, ValidatorPeer } from '../../core/src/miner/jobs/active-job.js';
import { JobHub } from '../../core/src/miner/jobs/job-hub.js';
import { MinerMetrics } from '../../core/src/miner/metrics.js';
import { ExecutorPool } from '../../core/src/miner/pool/executor-pool.js';
import { createMinerStore, type MinerStore } from '../../core/src/miner/store/index.js';
import { createJobStartedReceipt, type MinerToValidatorMessage, type V0InitialJobRequest } from '../../core/src/protocol/index.js';
import { openStore } from '../../core/src/store/index.js';
import { testHotkey } from '../../core/src/testkit/index.js';
import { SystemClock } from '../../core/src/time/clock.js';
import { LocalExecutorManager } from '../../executor-managers/local/src/local-executor-manager.js';

export const CLASS = 'always_on.test';

export class Peer implements ValidatorPeer {
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

export class Executor implements ExecutorPeer {
  readonly sent: string[] = [];
  /** Settles each send: at once, unless the test holds them. */
  handOff: Promise<void> = Promise.resolve();
  send(message: { message_type: string }): Promise<boolean> {
    this.sent.push(message.message_type);
    return this.handOff.then(() => true);
  }
  close(): void {}
}

export interface HubHarness {
  readonly hub: JobHub;
  readonly db: Store;
  readonly store: MinerStore;
  readonly pool: ExecutorPool;
  readonly manager: LocalExecutorManager;
  /** A validator connection opened and attached for the tests (none with `peer: false`). */
  readonly peer: Peer;
  readonly minerHotkey: string;
  /** The validator whose hotkey `peer` and `initialRequest` use. */
  readonly validatorHotkey: string;
  /** A valid `V0InitialJobRequest` for `jobUuid`, its started receipt signed by the peer's validator. */
  initialRequest(jobUuid: string): V0InitialJobRequest;
  /** Closes the hub, the pool (killing its agents) and the store, in that order. */
  close(): Promise<void>;
}

/**
 * `adjust` changes the store before the hub gets it (to slow or fail one kind of write); `logger`
 * receives the hub's log; `peer: false` leaves the validator's connections to the test.
 */
export async function hubHarness(
  options: { executors?: number; adjust?: (store: MinerStore) => void; logger?: Logger; peer?: boolean } = {},
): Promise<HubHarness> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const clock = new SystemClock();
  const db = await openStore({ client: 'sqlite', filename: ':memory:' });
  const store = createMinerStore(db.db, () => clock.now());
  options.adjust?.(store);
  const manager = new LocalExecutorManager({ executorClass: CLASS, executors: options.executors ?? 1, killGraceMs: 500, logger });
  const pool = new ExecutorPool({ manager, clock, logger });
  const metrics = new MinerMetrics(
    createMetricsRegistry({ defaultMetrics: false }),
    () => pool.usage(),
    () => 0,
  );
  const miner = await testHotkey('//HubHarnessMiner');
  const validator = await testHotkey('//HubHarnessValidator');
  const hub = new JobHub({
    store,
    pool,
    capacityPolicy: stakeProportionalPolicy(),
    stakesOf: async (hotkeys) => hotkeys.map(() => 0),
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
  const peer = new Peer(validator.ss58, 1);
  if (options.peer !== false) {
    hub.peerOpened(peer);
    hub.attach(peer);
  }
  return {
    hub,
    db,
    store,
    pool,
    manager,
    peer,
    minerHotkey: miner.ss58,
    validatorHotkey: validator.ss58,
    initialRequest(jobUuid) {
      const started = createJobStartedReceipt(
        { jobUuid, minerHotkey: miner.ss58, executorClass: CLASS, isOrganic: false, ttl: 60 },
        validator,
      );
      return {
        message_type: 'V0InitialJobRequest',
        job_uuid: jobUuid,
        executor_class: CLASS,
        docker_image: 'busybox',
        job_started_receipt_payload: started.payload,
        job_started_receipt_signature: started.validator_signature,
      };
    },
    async close() {
      await hub.close();
      await pool.close();
      await db.close();
    },
  };
}
