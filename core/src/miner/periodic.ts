import type { Clock, Logger } from '../contracts/index.js';

/**
 * Runs `task` now (or first after one interval, with `firstRunAfterInterval`, for a task its caller
 * has just run itself) and then every `intervalMs` until `signal` aborts. A failing run is logged
 * and the schedule goes on; runs never overlap. Resolves when stopped.
 */
export async function runPeriodically(
  name: string,
  intervalMs: number,
  task: () => Promise<void>,
  deps: { clock: Clock; logger: Logger; signal: AbortSignal; firstRunAfterInterval?: boolean },
): Promise<void> {
  if (deps.firstRunAfterInterval) {
    try {
      await deps.clock.sleep(intervalMs, deps.signal);
    } catch {
      return;
    }
  }
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
