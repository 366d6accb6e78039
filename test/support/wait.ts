/**
 * Polls `check` until it returns something other than undefined, and resolves with that; rejects
 * with "timed out waiting for <what>" after `timeoutMs`. `check` may be async.
 */
export function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  return new Promise<T>((resolve, reject) => {
    const poll = async () => {
      try {
        const value = await check();
        if (value !== undefined) return resolve(value);
      } catch (error) {
        return reject(error);
      }
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(poll, intervalMs);
    };
    void poll();
  });
}
