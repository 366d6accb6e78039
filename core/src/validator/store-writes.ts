import { withRetries } from '../time/retry.js';
import type { Logger } from '../contracts/index.js';
import { definedFields } from '../object/defined-fields.js';

/**
 * Attempts of a write the validator must not lose: about 95 s of retries (250 ms, ×1.5 each),
 * enough for a PostgreSQL restart or failover; a store down for longer fails the step, logged.
 */
export const STORE_WRITE_ATTEMPTS = 14;

export interface StoreWriteOptions {
  readonly logger: Logger;
  /** Stops retrying (the validator is shutting down). */
  readonly signal?: AbortSignal | undefined;
  /** Log fields that say which write (cycle, job counts). */
  readonly fields?: Record<string, unknown>;
}

/**
 * Writes what the validator already acted on (job outcomes whose finished receipts the miners
 * hold, weights already on chain, a batch's end): a store that is briefly down (restart, failover)
 * must not lose it, and a weights record lost after the chain took the weights would make the
 * validator send them again. Retried with backoff until the store is back.
 */
export function writeAcknowledged<T>(what: string, write: () => Promise<T>, options: StoreWriteOptions): Promise<T> {
  return withRetries(write, {
    attempts: STORE_WRITE_ATTEMPTS,
    initialDelayMs: 250,
    factor: 1.5,
    ...definedFields({ signal: options.signal }),
    onRetry: (error, attempt, delayMs) =>
      options.logger.warn(
        { ...options.fields, err: error, write: what, attempt, retryInMs: Math.round(delayMs) },
        'store write failed; retrying (the store may be restarting)',
      ),
  });
}
