/**
 * A JobHub as the miner builds one, for tests of its job path: a real store (SQLite in memory),
 * the real executor pool and local executor manager (its agents are idle node processes: the
 * test plays their messages), and a validator peer that records what it was sent.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Logger, Store } from '../../core/src/contracts/index.js';
import { createMetricsRegistry } from '../../core/src/metrics/index.js';
import { stakeProportionalPolicy } from '../../core/src/miner/capacity/stake-share.js';
import type { ExecutorPeer, ValidatorPeer } from '../../core/src/miner/jobs/active-job.js';
import { JobHub } from '../../core/src/miner/jobs/job-hub.js';
import { MinerMetrics } from '../../core/src/miner/metrics.js';
import { ExecutorPool } from '../../core/src/miner/pool/executor-pool.js';
import { ReceiptPages } from '../../core/src/miner/receipts/pages.js';
import { ReceiptService } from '../../core/src/miner/receipts/receipt-service.js';
import { createMinerStore, type MinerStore } from '../../core/src/miner/store/index.js';
import { createJobStartedReceipt, type MinerToValidatorMessage, type V0InitialJobRequest } from '../../core/src/protocol/index.js';
import { openStore } from '../../core/src/store/index.js';
import type { Hotkey } from '../../core/src/keys/index.js';
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
  /** The accept or decline of `jobUuid`, once it came. */
  answer(jobUuid: string): string | undefined {
    return this.sent.find(
      (m) => (m.message_type === 'V0AcceptJobRequest' || m.message_type === 'V0DeclineJobRequest') && m.job_uuid === jobUuid,
    )?.message_type;
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
  readonly metrics: MinerMetrics;
  /** A validator connection opened and attached for the tests (none with `peer: false`). */
  readonly peer: Peer;
  readonly minerHotkey: string;
  /** The validator whose hotkey `peer` and `initialRequest` use. */
  readonly validatorHotkey: string;
  /**
   * A valid `V0InitialJobRequest` for `jobUuid`, its started receipt signed by `validator` (default
   * the peer's) and organic when asked (only organic started receipts excuse a busy decline).
   */
  initialRequest(jobUuid: string, receipt?: { validator?: Hotkey; isOrganic?: boolean }): V0InitialJobRequest;
  /** Closes the hub, the pool (killing its agents), waits for the writes of what the pool reported, then closes the store. */
  close(): Promise<void>;
}

export interface HubHarnessOptions {
  /** Executors the local manager declares (default 1). */
  readonly executors?: number;
  /** How long a request that finds no executor waits for one (default 0: declined at once). */
  readonly capacityWaitMs?: number;
  /** Validators' stakes by hotkey (default 0 each). */
  readonly stakes?: Readonly<Record<string, number>>;
  /** Keep receipts (a receipt service over pages in a temp dir), as a miner on the network does: busy declines carry excuses. */
  readonly keepReceipts?: boolean;
  /** Changes the store before the hub gets it (to slow or fail one kind of write). */
  readonly adjust?: (store: MinerStore) => void;
  /** Receives the hub's log (default silent). */
  readonly logger?: Logger;
  /** `false`: no peer is opened; the test opens its validators' connections itself. */
  readonly peer?: boolean;
}

export async function hubHarness(options: HubHarnessOptions = {}): Promise<HubHarness> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const clock = new SystemClock();
  const db = await openStore({ client: 'sqlite', filename: ':memory:' });
  const store = createMinerStore(db.db, () => clock.now());
  options.adjust?.(store);
  const manager = new LocalExecutorManager({ executorClass: CLASS, executors: options.executors ?? 1, killGraceMs: 500, logger });
  // The pool tells the hub of executors that left, as the miner wires them (miner.ts).
  const pool = new ExecutorPool({ manager, clock, logger, onExecutorGone: (event) => hub.onExecutorGone(event) });
  const metrics = new MinerMetrics(createMetricsRegistry({ defaultMetrics: false }), {
    usage: () => pool.usage(),
    connections: () => 0,
    holders: () => pool.holdings(),
  });
  const miner = await testHotkey('//HubHarnessMiner');
  const validator = await testHotkey('//HubHarnessValidator');
  let receipts: ReceiptService | null = null;
  let pagesDir: string | null = null;
  if (options.keepReceipts) {
    pagesDir = await mkdtemp(join(tmpdir(), 'horde-hub-pages-'));
    receipts = new ReceiptService({
      repository: store.receipts,
      pages: new ReceiptPages(pagesDir, () => clock.now()),
      hotkeys: new Map([[miner.ss58, miner]]),
      logger,
    });
  }
  const stakes = options.stakes ?? {};
  const hub: JobHub = new JobHub({
    store,
    pool,
    capacityPolicy: stakeProportionalPolicy(),
    stakesOf: async (hotkeys) => hotkeys.map((hotkey) => stakes[hotkey] ?? 0),
    manager,
    receipts,
    hotkeys: new Map([[miner.ss58, miner]]),
    clock,
    logger,
    metrics,
    executorAddress: () => 'ws://127.0.0.1:1',
    // An executor process that idles: its messages are played by the test.
    launch: () => ({ argv: [process.execPath, '-e', 'setInterval(() => {}, 1000)'], env: {} }),
    spinUpSeconds: () => 0,
    startupTimeLimitSeconds: 30,
    capacityWaitMs: options.capacityWaitMs ?? 0,
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
    metrics,
    peer,
    minerHotkey: miner.ss58,
    validatorHotkey: validator.ss58,
    initialRequest(jobUuid, receipt = {}) {
      const started = createJobStartedReceipt(
        { jobUuid, minerHotkey: miner.ss58, executorClass: CLASS, isOrganic: receipt.isOrganic ?? false, ttl: 60 },
        receipt.validator ?? validator,
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
      // The failures the pool's close reports are written before the store closes.
      await hub.drain();
      await db.close();
      if (pagesDir) await rm(pagesDir, { recursive: true, force: true });
    },
  };
}
