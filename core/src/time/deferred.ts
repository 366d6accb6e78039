/** A promise with its resolve and reject in reach, and whether it was settled through them. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  /** Settles the promise (once: later calls do nothing) and marks it settled. */
  resolve(value: T): void;
  reject(error: unknown): void;
  readonly settled: boolean;
}

/**
 * A promise settled from wherever its outcome is decided (a frame that arrives, a process that
 * exits). With `unobserved: 'ignore'` a rejection nobody waits for yet is not an unhandled
 * rejection (whoever awaits later still gets it); by default it is, as for any promise.
 */
export function deferred<T>(options: { readonly unobserved?: 'ignore' } = {}): Deferred<T> {
  let settle!: { resolve: (value: T) => void; reject: (error: unknown) => void };
  const promise = new Promise<T>((resolve, reject) => {
    settle = { resolve, reject };
  });
  if (options.unobserved === 'ignore') promise.catch(() => {});
  let settled = false;
  return {
    promise,
    resolve(value) {
      settled = true;
      settle.resolve(value);
    },
    reject(error) {
      settled = true;
      settle.reject(error);
    },
    get settled() {
      return settled;
    },
  };
}
