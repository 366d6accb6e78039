import { z } from 'zod';
import { hotkeySection } from './hotkey.js';

import { DEFAULT_EXECUTOR_STARTUP_TIME_LIMIT_SECONDS, DEFAULT_EXECUTOR_TTL_SECONDS } from './executor-timing.js';

export { DEFAULT_EXECUTOR_STARTUP_TIME_LIMIT_SECONDS, DEFAULT_EXECUTOR_TTL_SECONDS } from './executor-timing.js';

/** Trusted-miner mode: serve exactly one validator that is not on chain (ComputeHorde's `IS_LOCAL_MINER`). */
const localModeSection = z.strictObject({
  /** ss58 of the only validator this miner accepts (`LOCAL_MINER_VALIDATOR_PUBLIC_KEY`). */
  validatorHotkey: z.string().min(1),
});

/**
 * Announcing the miner's address on chain (`serve_axon`), so validators find it in the metagraph
 * (ComputeHorde's `BITTENSOR_MINER_ADDRESS` / `BITTENSOR_MINER_PORT`).
 */
const announceSection = z.strictObject({
  /** Public IPv4 or IPv6 address validators connect to. */
  ip: z.string().min(1),
  /** Public port; default the miner's own `port` (set it when a proxy or NAT maps another one). */
  port: z.number().int().min(1).max(65_535).optional(),
  /** Seconds between announcements (ComputeHorde: 30 minutes); unchanged axons are not re-sent. */
  intervalSeconds: z.number().positive().default(1800),
});

/** The miner's HTTP/websocket server (validators and executors connect to it). */
export const minerSection = z.strictObject({
  host: z.string().min(1).default('0.0.0.0'),
  /** ComputeHorde's `BITTENSOR_MINER_PORT` default. */
  port: z.number().int().min(0).max(65_535).default(8000),

  /**
   * Hotkeys this miner process serves, all under one coldkey (dancing). Empty: the top-level
   * `hotkey` only. The validator's auth message names which one it talks to.
   */
  hotkeys: z.array(hotkeySection).default([]),
  /**
   * Address executors connect back to (`ADDRESS_FOR_EXECUTORS` / `PORT_FOR_EXECUTORS`), as a
   * ws:// URL. Default `ws://127.0.0.1:{port}`, right for executors on the miner's machine.
   */
  executorAddress: z
    .string()
    .regex(/^wss?:\/\/\S+$/, 'expected a ws:// or wss:// URL')
    .optional(),

  /** Least stake (alpha + tao × TaoWeight, whole units) a validator needs, besides a validator permit. */
  minValidatorStake: z.number().min(0).default(1000),
  /**
   * Seconds a validator connection has to authenticate before it is closed (a ComputeHorde
   * validator sends its auth message as soon as the socket opens).
   */
  validatorAuthTimeoutSeconds: z.number().positive().default(30),
  /**
   * Bytes a validator connection may send before it authenticates (frames queued for after the
   * auth count), counted as they arrive; more closes it with a GenericError. Default 8 MiB: the
   * auth message is under 1 kB, and an initial job request sent right behind it (an inline
   * volume, queued until the auth is checked) rarely needs more.
   */
  validatorMaxBytesBeforeAuth: z
    .number()
    .int()
    .positive()
    .default(8 * 1024 * 1024),
  /**
   * What all unauthenticated validator connections together may hold: bytes per remote address
   * and in total (not yet given back by authenticating or closing), and connections per address
   * and in total. A connection past any of them gets a GenericError and is cut off.
   */
  preAuth: z
    .strictObject({
      bytesPerAddress: z
        .number()
        .int()
        .positive()
        .default(32 * 1024 * 1024),
      bytesTotal: z
        .number()
        .int()
        .positive()
        .default(128 * 1024 * 1024),
      connectionsPerAddress: z.number().int().positive().default(64),
      connectionsTotal: z.number().int().positive().default(1024),
    })
    .prefault({}),
  /** Validator hotkeys accepted without any chain check (local testing). */
  debugAllowedValidators: z.array(z.string().min(1)).default([]),
  /** Where validators reach this miner, put on chain for each hotkey; null: never announce (set it on a real chain). */
  announce: announceSection.nullable().default(null),
  /** Trusted-miner mode: accept only this validator, no chain checks, no receipts, no manifest commitment. */
  localMode: localModeSection.nullable().default(null),
  /** Seconds between metagraph refreshes for validator checks (ComputeHorde syncs every 60 s). */
  metagraphRefreshSeconds: z.number().positive().default(60),

  /** Blocks per validator cycle (2 epochs of 361 blocks on mainnet); gives the cycle number for dancing. */
  cycleLengthBlocks: z.number().int().positive().default(722),
  /**
   * Seconds between manifest commitment checks (a read; written only when the manifest changed); 0
   * turns them off. 60 rather than ComputeHorde's 300: validators compare the served manifest with
   * the commitment in their batch, 24 blocks (~288 s) into the cycle, and a dancing miner's
   * commitment must have followed its horde by then, or its dance is not paid.
   */
  manifestCommitIntervalSeconds: z.number().min(0).default(60),

  /** Hard TTL of an executor: older ones are killed (ComputeHorde's `MAX_EXECUTOR_TIMEOUT`, 20 min). */
  executorTtlSeconds: z.number().positive().default(DEFAULT_EXECUTOR_TTL_SECONDS),
  /** Seconds an executor has for its startup stage, passed as `--startup-time-limit` (`DYNAMIC_EXECUTOR_STARTUP_TIME_LIMIT`). */
  executorStartupTimeLimitSeconds: z.number().positive().default(DEFAULT_EXECUTOR_STARTUP_TIME_LIMIT_SECONDS),
  /**
   * How long an initial job request that finds no executor for it (all busy, or the free ones kept
   * for other validators' stake shares) waits at the miner before it is declined `busy`; an
   * executor freed meanwhile goes to the waiting request of the validator furthest below its
   * share. Keeps the stake-proportional split independent of how fast validators re-ask. Stay
   * well under validators' reservation limit (ComputeHorde: 5 s; horde: `reservationTimeLimitSeconds`, 7). 0: decline at once.
   */
  capacityWaitSeconds: z.number().min(0).max(4).default(1),
  /**
   * Spin-up seconds per executor class for classes no hardware-class plugin describes; with the
   * startup limit it bounds how long a starting executor may take to connect before its token expires.
   */
  defaultSpinUpSeconds: z.number().positive().default(240),
  /**
   * Command that starts an executor agent, before `executor --miner-url ... --token ...`.
   * Default: this Node binary running this installation's `horde`.
   */
  executorCommand: z.array(z.string().min(1)).min(1).optional(),

  /** How long jobs and receipts (DB rows and receipt pages) are kept (ComputeHorde: 2 days). */
  retentionSeconds: z
    .number()
    .positive()
    .default(2 * 24 * 3600),
  /** Seconds between eviction runs. */
  evictionIntervalSeconds: z.number().positive().default(600),
});

export type MinerSection = z.output<typeof minerSection>;
