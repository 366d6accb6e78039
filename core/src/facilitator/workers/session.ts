import type { Knex } from 'knex';
import type { Logger } from '../../contracts/index.js';
import { FacilitatorWorkersError } from './errors.js';

/** The parts of a node-postgres client this module uses (knex hands out `pg.Client`s). */
interface PgConnection {
  on(event: 'error' | 'end', listener: (error?: Error) => void): void;
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): void;
}

/**
 * One facilitator worker's own PostgreSQL session, held for the worker's life. Its backend pid is
 * the worker's id in dispatch claims: a claim whose pid is gone from `pg_stat_activity` belongs to
 * a dead worker (however it died), so another may send the job. The session also LISTENs for the
 * other workers' announcements.
 */
export class FacilitatorWorkerSession {
  private lost = false;
  private closed = false;
  private readonly lostListeners: Array<(error: Error) => void> = [];

  private constructor(
    private readonly db: Knex,
    private readonly connection: PgConnection,
    readonly pid: number,
    private readonly log: Logger,
  ) {
    const onLost = (error?: Error) => {
      if (this.lost) return;
      this.lost = true;
      const wrapped = new FacilitatorWorkersError(
        'HORDE_FACILITATOR_WORKERS_SESSION_LOST',
        'the facilitator worker lost its PostgreSQL session (announcements and its claim id)',
        { cause: error },
      );
      this.log.error({ err: error?.message }, 'facilitator worker session to PostgreSQL lost');
      for (const listener of this.lostListeners) listener(wrapped);
    };
    connection.on('error', onLost);
    connection.on('end', onLost);
  }

  /** Takes a connection out of the store's pool for good (it is never given back while the worker runs). */
  static async open(db: Knex, logger: Logger): Promise<FacilitatorWorkerSession> {
    const connection = (await db.client.acquireConnection()) as PgConnection;
    const result = (await db.raw('select pg_backend_pid() as pid').connection(connection)) as { rows: Array<{ pid: number }> };
    return new FacilitatorWorkerSession(db, connection, Number(result.rows[0]!.pid), logger);
  }

  get isLost(): boolean {
    return this.lost;
  }

  onLost(listener: (error: Error) => void): void {
    this.lostListeners.push(listener);
  }

  /** LISTENs on `channel`; `handler` gets each payload, in the order PostgreSQL delivers them. */
  async listen(channel: string, handler: (payload: string | undefined) => void): Promise<void> {
    this.connection.on('notification', (message) => {
      if (message.channel === channel) handler(message.payload);
    });
    // A channel is one of ours (a constant); quoted as an identifier.
    await this.db.raw(`listen "${channel.replaceAll('"', '""')}"`).connection(this.connection);
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
   * Stops listening and gives the connection back to the pool, a lost one too: the pool disposes
   * of a broken connection, and one never given back would hold the store's close forever.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.lost) {
      this.lost = true;
      await this.db
        .raw('unlisten *')
        .connection(this.connection)
        .catch(() => undefined);
    }
    await this.db.client.releaseConnection(this.connection).catch(() => undefined);
  }
}
