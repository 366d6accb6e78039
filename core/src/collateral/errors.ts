import { HordeError, type HordeErrorCode } from '../errors.js';

/**
 * Why a collateral read or write did not happen. Every failure of the collateral client is one of
 * these, so the validator can log the code and carry on (routing without the filter, a slash
 * retried later) instead of crashing on a node's odd reply.
 */
/** Every collateral failure code (`HORDE_COLLATERAL_…`, listed with their meaning in the error catalogue). */
export type CollateralErrorCode = Extract<HordeErrorCode, `HORDE_COLLATERAL_${string}`>;

const TRANSIENT: ReadonlySet<string> = new Set([
  'HORDE_COLLATERAL_RPC_UNREACHABLE',
  'HORDE_COLLATERAL_RPC_ERROR',
  'HORDE_COLLATERAL_REASON_URL',
]);

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

  /** The contract's custom error name for `HORDE_COLLATERAL_REVERTED`, else null. */
  readonly revert: string | null;

  /** Failures worth trying again later (the node was away or busy), as the original retries its slashes. */
  get transient(): boolean {
    return isTransientCollateralCode(this.code);
  }
}
