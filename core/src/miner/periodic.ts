import type { Clock, Logger } from '../contracts/index.js';

/**
 * Runs `task` now and then every `intervalMs` until `signal` aborts. A failing run is logged and
 * the schedule goes on; runs never overlap. Resolves when stopped.
 */
export async function runPeriodically(
  name: string,
  intervalMs: number,
  task: () => Promise<void>,
  deps: { clock: Clock; logger: Logger; signal: AbortSignal },
): Promise<void> {
  while (!deps.signal.aborted) {
    try {
      await task();
    } catch (error) {
      deps.logger.error({ err: error, task: name }, `${name} failed`);
    }
    try {
      await deps.clock.sleep(intervalMs, deps.signal);
    } catch {
      return;
    }
  }
}
