/**
 * Time source for every timeout, deadline and TTL in the runtime. Production uses wall time;
 * tests and the devnet may inject a clock that they control.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds; rejects with the signal's reason if it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}
