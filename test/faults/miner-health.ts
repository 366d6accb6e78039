/** Reads a miner's `/healthz` from the fault tests. */

export interface MinerHealth {
  readonly executors: Record<string, { capacity: number; used: number; draining: number }>;
  readonly jobs: number;
}

export async function minerHealth(url: string): Promise<MinerHealth> {
  return (await (await fetch(`${url}/healthz`)).json()) as MinerHealth;
}

/**
 * Waits until no executor slot is in use and no released executor is still cleaning up (the
 * previous job's executor is gone): a few of those ride free per slot, and past that they take
 * slots, so jobs sent faster than the pool sees executors exit would be declined as busy.
 */
export async function waitForIdleExecutors(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const health = await minerHealth(url);
    if (Object.values(health.executors).every((slot) => slot.used === 0 && slot.draining === 0)) return;
    if (Date.now() > deadline) throw new Error(`executors still busy: ${JSON.stringify(health.executors)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
