import type { Clock } from '../contracts/index.js';

/** Resolves after `ms` milliseconds, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The reason to hand `AbortController.abort` when cancelling a timer nobody needs any more (a
 * `sleep` raced against the work it bounds). Without one, `abort()` makes a DOMException, stack
 * trace included: ~35 µs each, on every accept (the pool's start deadline) and every job's end (its
 * connect timer) of a busy miner, and at each stage's end of a job in the agent (its deadline).
 * Whoever listens ignores the reason.
 */
export const TIMER_NOT_NEEDED: unknown = Object.freeze({ reason: 'the timer is no longer needed' });

/** Wall-clock time; the `Clock` every process uses unless a test or the devnet injects another. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleep(ms, signal);
  }
}
