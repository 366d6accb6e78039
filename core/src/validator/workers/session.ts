import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from '../../contracts/index.js';
import { PgSession } from '../../store/pg-session.js';
import { ValidatorWorkersError } from './errors.js';

/** Two int4 keys of a PostgreSQL advisory lock, from a name (sha-256), so unrelated names do not collide. */
export function advisoryKeys(name: string): [number, number] {
  const digest = createHash('sha256').update(name).digest();
  return [digest.readInt32BE(0), digest.readInt32BE(4)];
}

/**
 * One validator worker's own PostgreSQL session (`PgSession`): its backend pid names the worker (a
 * task row records it, and the leader sees the worker is dead the moment the session is gone from
 * `pg_stat_activity`), and the leader's advisory lock lives on it, so the lock is released by
 * PostgreSQL itself when the worker dies, however it dies.
 */
export class WorkerSession extends PgSession {
  private leader = false;

  static async open(db: Knex, logger: Logger): Promise<WorkerSession> {
    const { connection, pid } = await PgSession.acquire(db);
    return new WorkerSession(db, connection, pid, logger);
  }

  protected lostError(cause: Error | undefined): Error {
    return new ValidatorWorkersError(
      'HORDE_VALIDATOR_WORKERS_SESSION_LOST',
      'the worker lost its PostgreSQL session (and with it any leadership)',
      {
        cause,
      },
    );
  }

  protected override lostDetails(): Record<string, unknown> {
    return { wasLeader: this.leader };
  }

  protected override onSessionLost(): void {
    this.leader = false;
  }

  /** Drops every advisory lock of the session. */
  protected async beforeRelease(): Promise<void> {
    await this.db.raw('select pg_advisory_unlock_all()').connection(this.connection);
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** Tries once to take the session-level advisory lock `name`; true when this session holds it (now or already). */
  async tryLead(name: string): Promise<boolean> {
    if (this.isLost) return false;
    if (this.leader) return true;
    const [a, b] = advisoryKeys(name);
    const result = (await this.db.raw('select pg_try_advisory_lock(?, ?) as taken', [a, b]).connection(this.connection)) as {
      rows: Array<{ taken: boolean }>;
    };
    this.leader = result.rows[0]!.taken === true;
    return this.leader;
  }
}
