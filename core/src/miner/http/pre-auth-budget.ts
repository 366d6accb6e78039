/**
 * What unauthenticated validator connections may make the miner hold, across all of them.
 *
 * Anyone can open the validator websocket, and `ws` buffers a whole frame (up to the 50 MiB
 * protocol maximum) before the miner sees it: twenty strangers sending one 45 MiB frame each took a
 * miner from 174 MiB to 1.2 GiB. So bytes are counted as they arrive on the TCP socket, before
 * `ws` assembles a frame, against three budgets — per connection, per remote address and in total —
 * and unauthenticated connections are counted per address and in total. A connection over any of
 * them is told why and cut off at once (which frees what `ws` had buffered). Authenticating, or
 * closing, gives the connection's bytes and its place back.
 */
import type { Logger } from '../../contracts/index.js';

export interface PreAuthLimits {
  /** Bytes one connection may send before it authenticates (`miner.validatorMaxBytesBeforeAuth`). */
  readonly bytesPerConnection: number;
  /** Bytes all unauthenticated connections from one address may have sent and not yet given back. */
  readonly bytesPerAddress: number;
  /** Bytes all unauthenticated connections together may have sent and not yet given back. */
  readonly bytesTotal: number;
  /** Unauthenticated connections open at once from one address. */
  readonly connectionsPerAddress: number;
  /** Unauthenticated connections open at once in all. */
  readonly connectionsTotal: number;
}

/** One unauthenticated connection's share of the budget, given back exactly once by `end`. */
export interface PreAuthLease {
  /** Counts `bytes` just received; returns why the connection must go when a budget is exceeded. */
  take(bytes: number): string | null;
  /** Gives the bytes and the connection back (authenticated or closed). Idempotent. */
  end(): void;
}

export class PreAuthBudget {
  private totalBytes = 0;
  private totalConnections = 0;
  private readonly bytesByAddress = new Map<string, number>();
  private readonly connectionsByAddress = new Map<string, number>();

  constructor(
    readonly limits: PreAuthLimits,
    private readonly logger: Logger,
  ) {}

  /** What unauthenticated connections hold now (for `/healthz` and tests). */
  usage(): { connections: number; bytes: number } {
    return { connections: this.totalConnections, bytes: this.totalBytes };
  }

  /** Admits a new unauthenticated connection from `address`, or returns why it is refused. */
  open(address: string): PreAuthLease | string {
    const { limits } = this;
    const fromAddress = this.connectionsByAddress.get(address) ?? 0;
    if (fromAddress >= limits.connectionsPerAddress) {
      return `Too many unauthenticated connections from ${address} (limit ${limits.connectionsPerAddress})`;
    }
    if (this.totalConnections >= limits.connectionsTotal) {
      return `Too many unauthenticated connections (limit ${limits.connectionsTotal})`;
    }
    this.connectionsByAddress.set(address, fromAddress + 1);
    this.totalConnections++;

    let held = 0;
    let ended = false;
    const addBytes = (delta: number) => {
      this.totalBytes += delta;
      const next = (this.bytesByAddress.get(address) ?? 0) + delta;
      if (next > 0) this.bytesByAddress.set(address, next);
      else this.bytesByAddress.delete(address);
    };
    return {
      take: (bytes) => {
        if (ended) return null;
        held += bytes;
        addBytes(bytes);
        if (held > limits.bytesPerConnection) return `Validator sent more than ${limits.bytesPerConnection} bytes before authenticating`;
        if ((this.bytesByAddress.get(address) ?? 0) > limits.bytesPerAddress) {
          return `Unauthenticated connections from ${address} sent more than ${limits.bytesPerAddress} bytes`;
        }
        if (this.totalBytes > limits.bytesTotal) return `Unauthenticated connections sent more than ${limits.bytesTotal} bytes in all`;
        return null;
      },
      end: () => {
        if (ended) return;
        ended = true;
        addBytes(-held);
        held = 0;
        const left = (this.connectionsByAddress.get(address) ?? 1) - 1;
        if (left > 0) this.connectionsByAddress.set(address, left);
        else this.connectionsByAddress.delete(address);
        this.totalConnections--;
      },
    };
  }

  /** Logs a refusal once per reason and address per second, so a flood cannot flood the log too. */
  logRefusal(address: string, reason: string): void {
    const key = `${address}\u0000${reason}`;
    const now = Date.now();
    if ((this.lastLogged.get(key) ?? 0) > now - 1000) return;
    if (this.lastLogged.size > 10_000) this.lastLogged.clear();
    this.lastLogged.set(key, now);
    this.logger.warn({ remoteAddress: address, reason, ...this.usage() }, 'unauthenticated validator connection refused');
  }
  private readonly lastLogged = new Map<string, number>();
}
