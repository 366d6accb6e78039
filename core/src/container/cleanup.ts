import type { Logger } from '../contracts/index.js';

/** One thing a process opened, and how to close it. */
interface CleanupStep {
  readonly name: string;
  readonly close: () => void | Promise<void>;
}

/**
 * The closing half of a process's composition root: every step that opened something registers
 * how to close it, and `close()` undoes them in reverse order of opening (the dashboard before the
 * role, the role before its plugins, plugins before the store and chain they may use).
 *
 * - Each step is logged (`debug` when it closed, `error` when it failed); a failing step never
 *   skips the ones after it.
 * - `close()` is idempotent: a second call (a second signal, a `finally` after an explicit close)
 *   gets the same promise, and nothing closes twice.
 * - A step added once closing has begun (an opening that was still running when a signal asked the
 *   process to stop) is closed next, before the older steps it may use, instead of being leaked;
 *   added after everything closed, it is closed at once and `close()` waits for it.
 */
export class Cleanup {
  readonly #logger: Logger;
  readonly #steps: CleanupStep[] = [];
  #closing: Promise<void> | null = null;
  /** Set once `close()` has run every step it found. */
  #drained = false;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Whether `close()` has been called. */
  get closing(): boolean {
    return this.#closing !== null;
  }

  /** Step names still to close, oldest first (for logs and tests). */
  get pending(): readonly string[] {
    return this.#steps.map((step) => step.name);
  }

  /** Registers how to close what was just opened; closed before everything added earlier. */
  add(name: string, close: () => void | Promise<void>): void {
    const step = { name, close };
    if (this.#closing) this.#logger.warn({ step: name }, 'opened while the process was closing; closing it now');
    if (!this.#drained) {
      // Not closing yet, or still closing: the running loop takes it next, before the older steps it may use.
      this.#steps.push(step);
      return;
    }
    // Everything else is closed already: this step is the last one, and `close()` waits for it.
    this.#closing = this.#closing!.then(() => this.#run(step));
  }

  /** Closes every step, newest first; resolves once all have run, whether or not some failed. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (let step = this.#steps.pop(); step; step = this.#steps.pop()) await this.#run(step);
      this.#drained = true;
    })();
    return this.#closing;
  }

  async #run(step: CleanupStep): Promise<void> {
    try {
      await step.close();
      this.#logger.debug({ step: step.name }, 'closed');
    } catch (error) {
      this.#logger.error({ step: step.name, err: error }, 'close failed; closing the rest');
    }
  }
}
