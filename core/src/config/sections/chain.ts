import { z } from 'zod';
import { storeSection } from './store.js';

/**
 * Which chain the process talks to. `local` is the embedded devnet chain (no node to run); `finney`
 * and `test` are the public Bittensor networks; any `ws://`/`wss://` URL is a subtensor node.
 * netuid 12 is ComputeHorde's mainnet subnet (174 on testnet).
 */
export const chainNetworkSchema = z
  .string()
  // One pattern rather than a union: zod 4 reports a failed union by the branch it liked best
  // ("expected regex"), while this keeps the message below.
  .regex(/^(?:local|finney|test|wss?:\/\/\S+)$/, { error: 'expected "local", "finney", "test" or a ws:// or wss:// URL' });

const blocks = z.number().int().nonnegative();

/**
 * The embedded LocalChain. It lives in the store (`store` section), so every process pointed at the
 * same SQLite file or PostgreSQL database shares it. The subnet settings are used by
 * `horde chain init` (and the devnet) when the chain is created; afterwards the chain keeps them.
 */
export const localChainSection = z.strictObject({
  /** Milliseconds per block of the embedded chain (a real chain makes one block every 12 s). */
  blockTimeMs: z.number().int().positive().default(12_000),
  /** Blocks per epoch minus one (`Tempo`). The devnet uses a small tempo (10-20) for short cycles. */
  tempo: z.number().int().positive().max(65_535).default(360),
  /** Blocks between two weight submissions of a hotkey (`WeightsSetRateLimit`). */
  weightsRateLimit: blocks.default(100),
  /** Commit-reveal v2 (`CommitRevealWeightsEnabled`); subtensor's default is on. */
  commitRevealEnabled: z.boolean().default(true),
  /** Epochs between a commit and its reveal (`RevealPeriodEpochs`). */
  revealPeriodEpochs: z.number().int().positive().default(1),
  /** Fewest uids a weight vector must cover (`MinAllowedWeights`). */
  minAllowedWeights: blocks.max(65_535).default(1),
  /** Largest share of one uid, as a u16 fraction (`MaxWeightsLimit`; 65535 = no limit). */
  maxWeightsLimit: blocks.max(65_535).default(65_535),
  /** Lowest `version_key` accepted (`WeightsVersionKey`; 0 = any). */
  weightsVersionKey: blocks.default(0),
  /** Blocks without a weight update before a neuron counts as inactive (`ActivityCutoff`). */
  activityCutoff: blocks.default(5000),
  /** Blocks between two `serve_axon` of a hotkey (`ServingRateLimit`). */
  servingRateLimit: blocks.default(50),
  /** Weight of root TAO in total stake (`TaoWeight`). */
  taoWeight: z.number().nonnegative().default(0.18),
  /**
   * Where the chain lives when it is not in the process's own store: several processes that each
   * keep their own tables (the devnet's miners and validator) share one chain this way. Same form
   * as the top-level `store` section. Default: the process's store.
   */
  store: storeSection.optional(),
});

/** A subtensor node (finney, test or a URL). */
export const subtensorChainSection = z.strictObject({
  /** Resolve writes when finalized rather than when included in a block (slower, reorg-proof). */
  waitForFinalization: z.boolean().default(false),
  /** Longest wait for a write to land, in milliseconds. */
  submitTimeoutMs: z.number().int().positive().default(120_000),
});

export const chainSection = z.strictObject({
  network: chainNetworkSchema.default('local'),
  netuid: z.number().int().min(0).max(65_535).default(12),
  local: localChainSection.prefault({}),
  subtensor: subtensorChainSection.prefault({}),
});

export type ChainSection = z.output<typeof chainSection>;
