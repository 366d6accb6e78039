import { z } from 'zod';

/**
 * Which chain the process talks to. `local` is the embedded devnet chain (no node to run); `finney`
 * and `test` are the public Bittensor networks; any `ws://`/`wss://` URL is a subtensor node.
 * netuid 12 is ComputeHorde's mainnet subnet (174 on testnet).
 */
const NETWORK_HINT = 'expected "local", "finney", "test" or a ws:// or wss:// URL';
export const chainNetworkSchema = z.union([z.enum(['local', 'finney', 'test']), z.string().regex(/^wss?:\/\/\S+$/, NETWORK_HINT)], {
  error: NETWORK_HINT,
});

export const localChainSection = z.strictObject({
  /** Milliseconds per block of the embedded chain (a real chain makes one block every 12 s). */
  blockTimeMs: z.number().int().positive().default(12_000),
});

export const chainSection = z.strictObject({
  network: chainNetworkSchema.default('local'),
  netuid: z.number().int().min(0).max(65_535).default(12),
  local: localChainSection.prefault({}),
});

export type ChainSection = z.output<typeof chainSection>;
