/**
 * Wakes the requests waiting for a job's next status update (`GET /api/v1/jobs/{uuid}/updates/`)
 * in this process. The store stays the truth: a waiter re-reads it when woken, and on its own at
 * least every `RECHECK_MS`, so a wake-up that never comes (an announcement lost between workers)
 * only delays it.
 */
export class JobUpdateSignal {
  private readonly waiters = new Map<string, Set<() => void>>();

  /** Resolves when `notify(uuid)` is called, or after `ms`, or when `signal` aborts. */
  wait(uuid: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiters.get(uuid) ?? new Set();
      this.waiters.set(uuid, set);
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0 && this.waiters.get(uuid) === set) this.waiters.delete(uuid);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }

  notify(uuid: string): void {
    for (const done of [...(this.waiters.get(uuid) ?? [])]) done();
  }

  /** Requests waiting now (for tests and metrics). */
  get waiting(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }
}
