import { BatchAbortedError } from './errors.js';

/**
 * `work`, or a `BatchAbortedError` as soon as `signal` aborts, whichever comes first. The work
 * itself cannot be stopped from here (a generator's `prepare`, a verifier's download): it runs on
 * detached, its outcome ignored, so nobody waits for it.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(new BatchAbortedError());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => undefined);
      reject(new BatchAbortedError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}
