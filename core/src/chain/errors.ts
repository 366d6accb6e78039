import { defineError, HordeError } from '../errors.js';

/**
 * An error from the chain or from a chain adapter. Where the chain named the failure, `code` is
 * subtensor's own name for it (`SettingWeightsTooFast`, `InvalidRevealCommitHashNotMatch`,
 * `CommitRevealEnabled`, … from `SubtensorModule`'s error enum, or a transaction-pool rejection
 * such as `CommitNotFound` from subtensor's `CustomTransactionError`), so callers can match on the
 * same names whether they talk to finney or to the embedded LocalChain.
 */
export class ChainError extends HordeError {
  /** Blocks to wait before the call can succeed (rate limits), when the chain says so. */
  readonly blocksRemaining: number | undefined;
  /** First block at which the call can succeed (rate limits). */
  readonly nextBlock: number | undefined;

  constructor(code: string, message: string, options: { cause?: unknown; blocksRemaining?: number; nextBlock?: number } = {}) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.blocksRemaining = options.blocksRemaining;
    this.nextBlock = options.nextBlock;
  }
}

/**
 * ChainError codes that are not the chain's verdict on the call: it may still land (a timeout) or
 * may have landed (its block's events could not be read). Callers keep such work for a retry.
 */
export const UNCERTAIN_OUTCOME_CODES: ReadonlySet<string> = new Set(['SubmitTimeout', 'InvalidChainReply', 'ConnectionFailed']);

/** True when `error` is the chain refusing the call (final), not a lost or unreadable answer. */
export function isChainVerdict(error: unknown): error is ChainError {
  return error instanceof ChainError && !UNCERTAIN_OUTCOME_CODES.has(error.code);
}

/** The weights handed to the adapter cannot be put on chain (negative, NaN, uid out of range…). */
export class InvalidWeightsError extends defineError('HORDE_INVALID_WEIGHTS') {}

/** The knowledge commitment (manifest) cannot be encoded or is too long. */
export class CommitmentError extends defineError('HORDE_INVALID_COMMITMENT') {}

/** The chain configuration (network name, local chain state) is unusable. */
export class ChainConfigError extends defineError('HORDE_CHAIN_CONFIG') {}

/**
 * subtensor's `CustomTransactionError` (pallets/subtensor/src/lib.rs): the transaction pool rejects
 * a call with `Invalid Transaction: Custom error: <n>` (JSON-RPC code 1010) before it reaches a
 * block. Mapping the number to its name lets callers handle pool rejections by name as well.
 */
export const CUSTOM_TRANSACTION_ERRORS: Readonly<Record<number, string>> = {
  0: 'ColdkeyInSwapSchedule',
  1: 'StakeAmountTooLow',
  2: 'BalanceTooLow',
  3: 'SubnetNotExists',
  4: 'HotkeyAccountDoesntExist',
  5: 'NotEnoughStakeToWithdraw',
  6: 'RateLimitExceeded',
  7: 'InsufficientLiquidity',
  8: 'SlippageTooHigh',
  9: 'TransferDisallowed',
  10: 'HotKeyNotRegisteredInNetwork',
  11: 'InvalidIpAddress',
  12: 'ServingRateLimitExceeded',
  13: 'InvalidPort',
  14: 'ZeroMaxAmount',
  15: 'InvalidRevealRound',
  16: 'CommitNotFound',
  17: 'CommitBlockNotInRevealRange',
  18: 'InputLengthsUnequal',
  19: 'UidNotFound',
  20: 'EvmKeyAssociateRateLimitExceeded',
  255: 'BadRequest',
};

/** Text that should be an ss58 address is not one. */
export class InvalidAddressError extends defineError('HORDE_INVALID_ADDRESS') {
  constructor(address: string, what = 'address') {
    super(`${what} ${JSON.stringify(address)} is not a valid ss58 address`);
  }
}
