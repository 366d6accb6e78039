import { HordeError } from '../errors.js';

/**
 * Why a collateral read or write did not happen. Every failure of the collateral client is one of
 * these, so the validator can log the code and carry on (routing without the filter, a slash
 * retried later) instead of crashing on a node's odd reply.
 */
export type CollateralErrorCode =
  /** The EVM RPC could not be reached or did not answer in time. */
  | 'COLLATERAL_RPC_UNREACHABLE'
  /** The RPC serves another chain than the configured `chainId` (wrong URL, testnet vs mainnet). */
  | 'COLLATERAL_WRONG_CHAIN'
  /** No contract code at the configured address on that chain. */
  | 'COLLATERAL_CONTRACT_MISSING'
  /** The contract refused the call; `revert` names its custom error (`NotTrustee`, `InsufficientAmount`, …). */
  | 'COLLATERAL_REVERTED'
  /** A transaction was mined but failed. */
  | 'COLLATERAL_TX_FAILED'
  /** The miner has no EVM key associated with its hotkey on the subnet. */
  | 'COLLATERAL_NO_EVM_ADDRESS'
  /** The chain client cannot resolve hotkeys to EVM addresses. */
  | 'COLLATERAL_NO_ASSOCIATIONS'
  /** A setting or argument is unusable (address, key, amount, missing key file). */
  | 'COLLATERAL_BAD_INPUT'
  /** The validator's EVM key is not the contract's trustee: its slashes would be refused. */
  | 'COLLATERAL_NOT_TRUSTEE'
  /** The slash reason is an http(s) URL whose content could not be fetched for its checksum. */
  | 'COLLATERAL_REASON_URL'
  /** Anything else the node answered that the client did not expect. */
  | 'COLLATERAL_RPC_ERROR';

const TRANSIENT: ReadonlySet<string> = new Set(['COLLATERAL_RPC_UNREACHABLE', 'COLLATERAL_RPC_ERROR', 'COLLATERAL_REASON_URL']);

/** Whether a failure with this code may pass by itself (the node was away or busy): worth trying again. */
export function isTransientCollateralCode(code: string): boolean {
  return TRANSIENT.has(code);
}

export class CollateralError extends HordeError {
  constructor(
    override readonly code: CollateralErrorCode,
    message: string,
    options?: { cause?: unknown; revert?: string },
  ) {
    super(code, message, options);
    this.revert = options?.revert ?? null;
  }

  /** The contract's custom error name for `COLLATERAL_REVERTED`, else null. */
  readonly revert: string | null;

  /** Failures worth trying again later (the node was away or busy), as the original retries its slashes. */
  get transient(): boolean {
    return isTransientCollateralCode(this.code);
  }
}
