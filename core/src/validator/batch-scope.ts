import { setMaxListeners } from 'node:events';
import type { Clock } from '../contracts/index.js';
import { untilAborted } from './abortable.js';
import { BatchAbortedError } from './errors.js';
import type { MinerConnection } from './miner-client.js';

/**
 * What stopping a batch means, in one place: the batch's own signal (followed by every job and
 * wait of the batch: thousands of listeners, which the caller's signal would warn about), the
 * connections to drop when it fires, and the checks the steps make between them. Without a
 * caller's signal the batch cannot be stopped and every check passes.
 */
export class BatchScope {
  /** Aborts when the caller's signal does; undefined when the caller gave none. */
  readonly signal: AbortSignal | undefined;
  private readonly controller: AbortController | null;
  /** Every connection made, so an abort can drop them all and `close` close them. */
  private readonly connections: MinerConnection[] = [];
  private readonly abort = () => this.controller?.abort();
  private readonly dropConnections = () => {
    for (const connection of this.connections) connection.close({ immediately: true });
  };

  constructor(private readonly callerSignal: AbortSignal | undefined) {
    this.controller = callerSignal ? new AbortController() : null;
    this.signal = this.controller?.signal;
    if (this.signal) {
      setMaxListeners(0, this.signal);
      callerSignal?.addEventListener('abort', this.abort, { once: true });
      this.signal.addEventListener('abort', this.dropConnections, { once: true });
    }
  }

  get aborted(): boolean {
    return this.signal?.aborted ?? false;
  }

  /** Ends the step with `BatchAbortedError` when the batch was stopped. */
  throwIfAborted(): void {
    if (this.aborted) throw new BatchAbortedError();
  }

  /** `work`, or `BatchAbortedError` as soon as the batch is stopped (the work runs on detached). */
  until<T>(work: Promise<T>): Promise<T> {
    return untilAborted(work, this.signal);
  }

  /** Sleeps `ms`, cut short (without an error) when the batch is stopped. */
  async sleep(clock: Clock, ms: number): Promise<void> {
    await clock.sleep(ms, this.signal).catch(() => undefined);
  }

  /** Keeps a new connection for dropping; one that came in after the stop is dropped at once. */
  adopt(connection: MinerConnection): void {
    this.connections.push(connection);
    if (this.aborted) connection.close({ immediately: true });
  }

  /** The batch is over: stops listening and closes every connection (at once if it was stopped). */
  close(): void {
    this.callerSignal?.removeEventListener('abort', this.abort);
    this.signal?.removeEventListener('abort', this.dropConnections);
    for (const connection of this.connections) connection.close({ immediately: this.aborted });
  }
}
