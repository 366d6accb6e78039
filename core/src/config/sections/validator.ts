import { z } from 'zod';
import { collateralSection } from './collateral.js';

/** The trusted miner: a horde miner in local mode that serves only this validator (ground truth, cross-checks). */
const trustedMinerSection = z.strictObject({
  /** Host or IP the trusted miner listens on (ComputeHorde's `TRUSTED_MINER_ADDRESS`). */
  address: z.string().min(1),
  port: z.number().int().min(1).max(65_535),
  /** The trusted miner's own hotkey (ss58): the auth message names it. */
  hotkey: z.string().min(1),
});

/**
 * Organic jobs: jobs end users submit through a facilitator (SDK → facilitator → this validator →
 * a miner). Off until `facilitatorUrl` is set.
 */
const organicSection = z.strictObject({
  /** The facilitator's validator websocket, e.g. `wss://facilitator.example/ws/v0/` (ComputeHorde's `FACILITATOR_URI`). */
  facilitatorUrl: z
    .string()
    .regex(/^wss?:\/\/\S+$/, 'expected a ws:// or wss:// URL')
    .nullable()
    .default(null),
  /**
   * SDK signers (ss58) whose jobs this validator runs besides its own hotkey (ComputeHorde's
   * `ValidatorWhitelist`); their cheat reports are honoured too.
   */
  whitelist: z.array(z.string().min(1)).default([]),
  /** Seconds between `V0Heartbeat`s (`HEARTBEAT_PERIOD`); the facilitator drops validators silent for 3 min. */
  heartbeatSeconds: z.number().positive().default(60),
  /** Longest wait between reconnection attempts to the facilitator (ComputeHorde waits 2, 4, … ≤ 10 s). */
  reconnectMaxDelaySeconds: z.number().positive().default(10),
  /** Leeway the executor gets before the job's stage limits (`DYNAMIC_ORGANIC_JOB_ALLOWED_LEEWAY_TIME`). */
  allowedLeewaySeconds: z.number().nonnegative().default(5),
  /** Seconds to connect to a chosen miner and receive its manifest. */
  minerConnectTimeoutSeconds: z.number().positive().default(10),
  /** Miners tried for one job when the chosen one cannot be reached or no longer declares the class. */
  routingAttempts: z.number().int().positive().default(3),
  /** How long a miner caught cheating (cheat report or failed cross-check) gets no organic jobs (code default: 4 h). */
  cheatedBlacklistSeconds: z
    .number()
    .nonnegative()
    .default(4 * 3600),
  /** Organic jobs run at once; more wait in line. */
  maxConcurrentJobs: z.number().int().positive().default(64),
});

const weightsSection = z.strictObject({
  /** Attempts per cycle to put weights on chain before giving up until the next cycle. */
  attempts: z.number().int().positive().default(5),
  /** Seconds between attempts (ComputeHorde retries every 5 s). */
  retryDelaySeconds: z.number().nonnegative().default(5),
  /** `version_key` sent with the weights; default: the subnet's `weightsVersion` hyperparameter. */
  versionKey: z.number().int().nonnegative().optional(),
  /** Blocks between calls that send due reveals of committed weights (commit-reveal subnets). */
  revealEveryBlocks: z.number().int().positive().default(5),
});

/**
 * Receipt transfer: the validator pulls every miner's `/receipts/{page}.jsonl` so that excuses,
 * busy executors and scoring see the receipts of all validators, not only its own.
 */
const receiptTransferSection = z.strictObject({
  enabled: z.boolean().default(true),
  /** Seconds between keep-up passes over the active pages (`DYNAMIC_RECEIPT_TRANSFER_INTERVAL`: 2 code, 10 production). */
  intervalSeconds: z.number().positive().default(10),
  /** Hours of pages the catch-up pass reads at start (ComputeHorde: 5). */
  catchUpHours: z.number().positive().default(5),
  /** Newest pages polled on every keep-up pass (`N_ACTIVE_PAGES`). */
  activePages: z.number().int().positive().default(2),
  /** Page fetches at once during catch-up and keep-up (ComputeHorde: 10 and 50). */
  catchUpConcurrency: z.number().int().positive().default(10),
  keepUpConcurrency: z.number().int().positive().default(50),
  /** Seconds one page fetch may take, body included (ComputeHorde: 3 catch-up, 1 keep-up). */
  catchUpTimeoutSeconds: z.number().positive().default(3),
  keepUpTimeoutSeconds: z.number().positive().default(2),
  /** Most uncompressed bytes read from one page per fetch; the rest comes on the next pass. */
  maxPageBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024),
  /** Worker threads verifying receipt signatures; 0 verifies on the main thread. */
  verifyThreads: z.number().int().nonnegative().default(2),
  /** Seconds the list of miners read from the metagraph is reused. */
  metagraphRefreshSeconds: z.number().positive().default(60),
});

/**
 * Validator workers: N processes (on one machine or several) sharing one PostgreSQL database and
 * one hotkey. One of them (the leader, by a PostgreSQL advisory lock) does the cycle work once:
 * batch plan, scoring, weights, reveals, receipt transfer; every worker runs the batch's tasks
 * (groups of miners) from a pg-boss queue, and serves organic jobs. Off by default: a single
 * process, on SQLite or PostgreSQL, as without this section.
 */
const workersSection = z.strictObject({
  /** Run as a worker of the pool (needs `store.client: postgres`); `horde validator --workers N` turns it on. */
  enabled: z.boolean().default(false),
  /** Worker processes `horde validator` starts on this machine (`--workers N`). */
  processes: z.number().int().positive().default(1),
  /** Miners per queue task: the unit of batch work a worker takes (a coldkey's hotkeys stay in one task). */
  minersPerTask: z.number().int().positive().default(64),
  /** Tasks one worker runs at once (every task of a batch should run at about the same time). */
  tasksPerWorker: z.number().int().positive().default(16),
  /** Times a task is run again after its worker died or it failed, before it ends failed. */
  taskRetries: z.number().int().nonnegative().default(2),
  /** Longest a task may run before the queue expires it and retries it (a hung worker). */
  taskTimeoutSeconds: z.number().int().positive().default(1800),
  /** Seconds between the leader's checks of the batch's tasks (states, dead workers) and leadership attempts. */
  pollSeconds: z.number().positive().default(1),
});

/**
 * The validator: synthetic batches against miners, scoring and weights. Timing defaults are
 * ComputeHorde's production values; the devnet shortens the cycle.
 */
export const validatorSection = z
  .strictObject({
    /** Seconds a miner has to accept or decline an initial job request. */
    reservationTimeLimitSeconds: z.number().positive().default(7),
    /** Seconds an executor has, after its class's spin-up time, to report ready. */
    startupTimeLimitSeconds: z.number().positive().default(10),

    /** Blocks per cycle: 722 = two epochs of tempo 360. Each validator runs one batch per cycle. */
    cycleLengthBlocks: z.number().int().positive().default(722),
    /** Blocks at the start of a cycle before the first validator's batch slot (`SYNTHETIC_JOBS_RUN_OFFSET`). */
    batchOffsetBlocks: z.number().int().nonnegative().default(24),
    /** Seconds to connect to a miner and receive its manifest (`_GET_MANIFEST_TIMEOUT`). */
    manifestTimeoutSeconds: z.number().positive().default(35),
    /** Where manifests come from: the miner's websocket greeting, or its on-chain commitment. */
    manifestSource: z.enum(['websocket', 'commitment']).default('websocket'),
    /** Extra seconds past a job's own time limits before the validator gives up on it (`_JOB_RESPONSE_EXTRA_TIMEOUT`). */
    jobResponseSlackSeconds: z.number().nonnegative().default(120),
    /** Seconds to wait for a miner's answer to `V0MainHotkeyMessage` (dancing). */
    mainHotkeyTimeoutSeconds: z.number().positive().default(10),
    /** Miners connected to at once while a batch starts (bounded so thousands of sockets do not open in one tick). */
    connectConcurrency: z.number().int().positive().default(128),
    /** Jobs generated at once. */
    generateConcurrency: z.number().int().positive().default(64),
    /** Results verified at once (verifiers may download from the object store). */
    verifyConcurrency: z.number().int().positive().default(32),
    /** Most jobs sent to one miner per executor class in a batch; 0 means as many as it declares. */
    maxExecutorsPerClass: z.number().int().nonnegative().default(0),

    trustedMiner: trustedMinerSection.nullable().default(null),
    /** Share of organic jobs also run on the trusted miner to catch cheaters (the SDK advises 1–2 %). */
    organicCrossCheckFraction: z.number().min(0).max(1).default(0),

    weights: weightsSection.prefault({}),
    organic: organicSection.prefault({}),
    receiptTransfer: receiptTransferSection.prefault({}),
    collateral: collateralSection.prefault({}),
    workers: workersSection.prefault({}),
  })
  .refine((section) => section.batchOffsetBlocks < section.cycleLengthBlocks, {
    message: 'batchOffsetBlocks must be smaller than cycleLengthBlocks',
    path: ['batchOffsetBlocks'],
  });

export type ValidatorSection = z.output<typeof validatorSection>;
export type TrustedMinerSection = z.output<typeof trustedMinerSection>;
export type OrganicSection = z.output<typeof organicSection>;
export type ReceiptTransferSection = z.output<typeof receiptTransferSection>;
export type WorkersSection = z.output<typeof workersSection>;
