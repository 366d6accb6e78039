import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from '../../contracts/index.js';
import { ValidatorWorkersError } from './errors.js';

/** The parts of a node-postgres client this module uses (knex hands out `pg.Client`s). */
interface PgConnection {
  on(event: 'error' | 'end', listener: (error?: Error) => void): void;
}

/** Two int4 keys of a PostgreSQL advisory lock, from a name (sha-256), so unrelated names do not collide. */
export function advisoryKeys(name: string): [number, number] {
  const digest = createHash('sha256').update(name).digest();
  return [digest.readInt32BE(0), digest.readInt32BE(4)];
}

/**
 * One worker's own PostgreSQL session, held for the worker's life: its backend pid names the
 * worker (a task row records it, and the leader sees the worker is dead the moment the session
 * is gone from `pg_stat_activity`), and the leader's advisory lock lives on it, so the lock is
 * released by PostgreSQL itself when the worker dies, however it dies (kill -9, lost network).
 */
export class WorkerSession {
  private leader = false;
  private lost = false;
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
      const wrapped = new ValidatorWorkersError(
        'HORDE_VALIDATOR_WORKERS_SESSION_LOST',
        'the worker lost its PostgreSQL session (and with it any leadership)',
        { cause: error },
      );
      this.log.error({ err: error?.message, wasLeader: this.leader }, 'worker session to PostgreSQL lost');
      this.leader = false;
      for (const listener of this.lostListeners) listener(wrapped);
    };
    connection.on('error', onLost);
    connection.on('end', onLost);
  }

  /** Takes a connection out of the store's pool for good (it is never given back while the worker runs). */
  static async open(db: Knex, logger: Logger): Promise<WorkerSession> {
    const connection = (await db.client.acquireConnection()) as PgConnection;
    const result = (await db.raw('select pg_backend_pid() as pid').connection(connection)) as { rows: Array<{ pid: number }> };
    return new WorkerSession(db, connection, Number(result.rows[0]!.pid), logger);
  }

  get isLeader(): boolean {
    return this.leader;
  }

  get isLost(): boolean {
    return this.lost;
  }

  onLost(listener: (error: Error) => void): void {
    this.lostListeners.push(listener);
  }

  /** Tries once to take the session-level advisory lock `name`; true when this session holds it (now or already). */
  async tryLead(name: string): Promise<boolean> {
    if (this.lost) return false;
    if (this.leader) return true;
    const [a, b] = advisoryKeys(name);
    const result = (await this.db.raw('select pg_try_advisory_lock(?, ?) as taken', [a, b]).connection(this.connection)) as {
      rows: Array<{ taken: boolean }>;
    };
    this.leader = result.rows[0]!.taken === true;
    return this.leader;
  }

  /** The worker sessions among `pids` that are still connected. */
  async alive(pids: readonly number[]): Promise<Set<number>> {
    if (pids.length === 0) return new Set();
    const rows = (await this.db('pg_stat_activity')
      .whereIn('pid', [...pids])
      .select('pid')) as Array<{ pid: number }>;
    return new Set(rows.map((row) => Number(row.pid)));
  }

  /** Drops every advisory lock of the session and gives the connection back to the pool. */
  async close(): Promise<void> {
    if (this.lost) return;
    this.lost = true;
    this.leader = false;
    try {
      await this.db.raw('select pg_advisory_unlock_all()').connection(this.connection);
    } catch {
      // The session is gone already: so is its lock.
    }
    await this.db.client.releaseConnection(this.connection).catch(() => undefined);
  }
}
