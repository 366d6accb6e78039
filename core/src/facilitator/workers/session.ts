import type { Knex } from 'knex';
import type { Logger } from '../../contracts/index.js';
import { PgSession } from '../../store/pg-session.js';
import { FacilitatorWorkersError } from './errors.js';

/**
 * One facilitator worker's own PostgreSQL session (`PgSession`). Its backend pid is the worker's
 * id in dispatch claims: a claim whose pid is gone from `pg_stat_activity` belongs to a dead
 * worker (however it died), so another may send the job. The session also LISTENs for the other
 * workers' announcements.
 */
export class FacilitatorWorkerSession extends PgSession {
  static async open(db: Knex, logger: Logger): Promise<FacilitatorWorkerSession> {
    const { connection, pid } = await PgSession.acquire(db);
    return new FacilitatorWorkerSession(db, connection, pid, logger);
  }

  protected lostError(cause: Error | undefined): Error {
    return new FacilitatorWorkersError(
      'HORDE_FACILITATOR_WORKERS_SESSION_LOST',
      'the facilitator worker lost its PostgreSQL session (announcements and its claim id)',
      { cause },
    );
  }

  /** Stops listening. */
  protected async beforeRelease(): Promise<void> {
    await this.db.raw('unlisten *').connection(this.connection);
  }

  /** LISTENs on `channel`; `handler` gets each payload, in the order PostgreSQL delivers them. */
  async listen(channel: string, handler: (payload: string | undefined) => void): Promise<void> {
    this.connection.on('notification', (message) => {
      if (message.channel === channel) handler(message.payload);
    });
    // A channel is one of ours (a constant); quoted as an identifier.
    await this.db.raw(`listen "${channel.replaceAll('"', '""')}"`).connection(this.connection);
  }
}
