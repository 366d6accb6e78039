/**
 * The last value of `load` for `ttlMs`: a dashboard refreshed every second must not ask the chain
 * for the metagraph every second. A failed load is not cached (the next refresh tries again) and
 * answers the last good value meanwhile.
 */
export function cachedFor<T>(ttlMs: number, now: () => number, load: () => Promise<T>): () => Promise<T | null> {
  let value: T | null = null;
  let loadedAt = -Infinity;
  let pending: Promise<T | null> | null = null;
  return () => {
    if (now() - loadedAt < ttlMs) return Promise.resolve(value);
    pending ??= load()
      .then((fresh) => {
        value = fresh;
        loadedAt = now();
        return fresh;
      })
      .catch(() => value)
      .finally(() => {
        pending = null;
      });
    return pending;
  };
}
