import type { Knex } from 'knex';
import type { Logger } from '../contracts/index.js';

/** The parts of a node-postgres client the sessions use (knex hands out `pg.Client`s). */
export interface PgConnection {
  on(event: 'error' | 'end', listener: (error?: Error) => void): void;
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): void;
}

/**
 * A worker's own PostgreSQL session, held for the worker's life (validator and facilitator
 * workers): its backend pid names the worker, and a pid gone from `pg_stat_activity` is a dead
 * worker, however it died (kill -9, lost network). What lives on the session (an advisory lock,
 * LISTENs) goes with it. Subclasses say what losing it means (`lostError`) and what to undo before
 * the connection goes back (`beforeRelease`).
 */
export abstract class PgSession {
  private lost = false;
  private closed = false;
  private readonly lostListeners: Array<(error: Error) => void> = [];

  protected constructor(
    protected readonly db: Knex,
    protected readonly connection: PgConnection,
    readonly pid: number,
    protected readonly log: Logger,
  ) {
    const onLost = (error?: Error) => {
      if (this.lost) return;
      this.lost = true;
      const wrapped = this.lostError(error);
      this.log.error({ err: error?.message, ...this.lostDetails() }, wrapped.message);
      this.onSessionLost();
      for (const listener of this.lostListeners) listener(wrapped);
    };
    connection.on('error', onLost);
    connection.on('end', onLost);
  }

  /** Takes a connection out of the store's pool for good (it is given back only by `close`), and its backend pid. */
  protected static async acquire(db: Knex): Promise<{ connection: PgConnection; pid: number }> {
    const connection = (await db.client.acquireConnection()) as PgConnection;
    const result = (await db.raw('select pg_backend_pid() as pid').connection(connection)) as { rows: Array<{ pid: number }> };
    return { connection, pid: Number(result.rows[0]!.pid) };
  }

  /** The typed error listeners get when the session is lost. */
  protected abstract lostError(cause: Error | undefined): Error;
  /** Extra fields of the log line of a lost session. */
  protected lostDetails(): Record<string, unknown> {
    return {};
  }
  /** Called once when the session is lost or closed, before listeners hear of it. */
  protected onSessionLost(): void {}
  /** Undone on a live session before its connection goes back (its locks, its LISTENs). */
  protected abstract beforeRelease(): Promise<void>;

  get isLost(): boolean {
    return this.lost;
  }

  onLost(listener: (error: Error) => void): void {
    this.lostListeners.push(listener);
  }

  /** Which of `pids` are connected sessions now. */
  async alive(pids: readonly number[]): Promise<Set<number>> {
    if (pids.length === 0) return new Set();
    const rows = (await this.db('pg_stat_activity')
      .whereIn('pid', [...pids])
      .select('pid')) as Array<{ pid: number }>;
    return new Set(rows.map((row) => Number(row.pid)));
  }

  /**
   * Undoes what lives on a live session and gives the connection back to the pool, a lost one too:
   * the pool disposes of a broken connection, and one never given back would hold the store's
   * close forever. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.lost) {
      this.lost = true;
      this.onSessionLost();
      // The session may be gone already: so is what lived on it.
      await this.beforeRelease().catch(() => undefined);
    }
    await this.db.client.releaseConnection(this.connection).catch(() => undefined);
  }
}
