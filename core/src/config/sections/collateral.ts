import { z } from 'zod';
import { DEFAULT_EVM_RPC_TIMEOUT_MS } from '../../collateral/defaults.js';

/** Wei as a decimal string (TAO has 18 decimals, so amounts pass JavaScript's safe integers). */
const wei = z
  .union([
    z.string().regex(/^\d+$/, 'a whole number of wei, as a string of digits'),
    z
      .number()
      .nonnegative()
      .refine((n) => Number.isSafeInteger(n), 'a number past 2^53 has lost digits: write the amount in quotes, as a string of digits'),
  ])
  .transform((value) => String(value));

/**
 * Miner collateral (ComputeHorde's optional collateral, bactensor/collateral-contracts): miners
 * deposit TAO into this validator's contract on the subtensor EVM; organic jobs go only to miners
 * with at least `minimumWei`; a miner caught cheating loses `slashAmountWei`. Off while
 * `contractAddress` is null.
 */
export const collateralSection = z.strictObject({
  /** The collateral contract this validator deployed and is trustee of; null turns collateral off. */
  contractAddress: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/, 'an H160 address, 0x and 40 hex digits')
    .nullable()
    .default(null),
  /** JSON-RPC URL of the subtensor EVM (finney: the lite node's EVM RPC). */
  rpcUrl: z.string().url().default('https://lite.chain.opentensor.ai'),
  /** The chain id the RPC must serve: 964 on finney, 945 on testnet. A different one is refused. */
  chainId: z.number().int().positive().default(964),
  /** Least collateral a miner needs for organic jobs; 0 turns the filter off (`DYNAMIC_MINIMUM_COLLATERAL_AMOUNT_WEI`, 0.01 TAO). */
  minimumWei: wei.default('10000000000000000'),
  /** Collateral taken from a miner caught cheating; 0 never slashes (`DYNAMIC_COLLATERAL_SLASH_AMOUNT_WEI`, 0.005 TAO). */
  slashAmountWei: wei.default('5000000000000000'),
  /**
   * The reason put on chain with a slash; `{jobUuid}` and `{minerHotkey}` are filled in. An http(s)
   * URL has the MD5 of its content stored beside it, as the original does.
   */
  slashReason: z.string().min(1).max(1024).default('job {jobUuid} cheated'),
  /** The trustee's EVM key: a JSON file `{"private_key": "0x…"}` (ComputeHorde's `<wallet>/h160/<hotkey>`). Needed to slash. */
  evmKeyFile: z.string().min(1).nullable().default(null),
  /** How often deposits are read again (`sync_collaterals`: every 10 min). */
  refreshSeconds: z.number().positive().default(600),
  /** Per-request timeout of the EVM RPC. */
  rpcTimeoutSeconds: z
    .number()
    .positive()
    .default(DEFAULT_EVM_RPC_TIMEOUT_MS / 1000),
  /** Attempts at a slash whose failure is transient (RPC away), with waits of 2, 4, … up to 120 s (the original: 5). */
  slashAttempts: z.number().int().positive().default(5),
});

export type CollateralSection = z.output<typeof collateralSection>;
