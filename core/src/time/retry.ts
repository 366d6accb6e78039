import { sleep } from './clock.js';

/**
 * Bounded retries with exponential backoff for the executor's HTTP transfers (ComputeHorde: 3
 * attempts, delay ×2). Small on purpose: p-retry 7+ needs Node 22.
 */

export interface RetryOptions {
  /** Total attempts, including the first. */
  readonly attempts: number;
  /** Delay before the second attempt; each later delay is `factor` times the previous. */
  readonly initialDelayMs: number;
  readonly factor?: number;
  readonly signal?: AbortSignal;
  /** False: give up at once (a 404 will not heal). Default: every error is retried. */
  readonly isRetryable?: (error: unknown) => boolean;
  /** Called before each wait, e.g. to log the failed attempt. */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/** Runs `fn` until it succeeds, fails with a non-retryable error, or runs out of attempts. */
export async function withRetries<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  let delay = options.initialDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      const retryable = options.isRetryable?.(error) ?? true;
      if (!retryable || attempt >= options.attempts || options.signal?.aborted) throw error;
      options.onRetry?.(error, attempt, delay);
      await sleep(delay, options.signal);
      delay *= options.factor ?? 2;
    }
  }
}
