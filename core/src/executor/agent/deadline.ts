import type { Clock } from '../../contracts/index.js';
import { TIMER_NOT_NEEDED } from '../../time/clock.js';

/**
 * The executor's job deadline (ComputeHorde's `JobDriver.deadline`): set once, then *extended* by
 * each stage's limit as the stage begins, so time a stage does not use carries over to the next.
 */
export class Deadline {
  private at: number;

  constructor(
    private readonly clock: Clock,
    seconds: number,
  ) {
    this.at = clock.now() + seconds * 1000;
  }

  /** Starts over: `seconds` from now. */
  set(seconds: number): void {
    this.at = this.clock.now() + seconds * 1000;
  }

  extend(seconds: number): void {
    this.at += seconds * 1000;
  }

  /** Milliseconds left (never negative). */
  leftMs(): number {
    return Math.max(0, this.at - this.clock.now());
  }

  /**
   * Runs `work` with an AbortSignal that fires when the deadline passes (or `outer` aborts).
   * Rejects with `onTimeout()` if the deadline passes first, even if `work` ignores the signal.
   * `graceMs` lets work that enforces the deadline itself (a job runner killing its container)
   * report first, with its output.
   */
  async run<T>(work: (signal: AbortSignal) => Promise<T>, onTimeout: () => Error, outer?: AbortSignal, graceMs = 0): Promise<T> {
    const controller = new AbortController();
    const stopTimer = new AbortController();
    const expired = this.clock.sleep(this.leftMs() + graceMs, stopTimer.signal).then(() => {
      const error = onTimeout();
      controller.abort(error);
      throw error;
    });
    const onOuterAbort = () => controller.abort(outer?.reason);
    if (outer?.aborted) onOuterAbort();
    outer?.addEventListener('abort', onOuterAbort, { once: true });
    try {
      return await Promise.race([work(controller.signal), expired]);
    } finally {
      stopTimer.abort(TIMER_NOT_NEEDED);
      outer?.removeEventListener('abort', onOuterAbort);
      // `expired` rejects when its timer is stopped: nobody waits for it any more.
      expired.catch(() => {});
    }
  }
}
