import type { NamedMigration } from './index.js';

/**
 * Facilitator workers (N processes on one PostgreSQL): which worker sent a job or a cheat report
 * to its validator (`dispatched_by`, the PostgreSQL backend pid of that worker's own session, so a
 * claim held by a dead worker is seen as such), and a per-job sequence number of its status
 * updates (`status_seq` on the job, `seq` on each history row, unique per job), so an update is
 * applied once and clients read the history in the order it was applied, whichever worker took it.
 * `deadline_at`: when an open job's time limits are over (creation + download + execution + upload
 * + streaming start), null once it ended, so the workers' deadline sweep reads an index of the open
 * jobs only, not the whole table each poll.
 */
export const facilitatorWorkersMigration: NamedMigration = {
  name: 'facilitator-h2-facw-0001-workers',

  async up(knex) {
    await knex.schema.alterTable('facilitator_jobs', (t) => {
      t.integer('dispatched_by');
      t.integer('status_seq').notNullable().defaultTo(0);
      t.bigInteger('deadline_at').index();
    });
    await knex('facilitator_jobs')
      .whereNotIn('status', ['completed', 'failed', 'rejected', 'horde_failed'])
      .update({
        deadline_at: knex.raw(
          'created_at + (download_time_limit + execution_time_limit + upload_time_limit + streaming_start_time_limit) * 1000',
        ),
      });
    await knex.schema.alterTable('facilitator_job_statuses', (t) => {
      t.integer('seq');
      t.unique(['job_uuid', 'seq']);
    });
    await knex.schema.alterTable('facilitator_cheat_reports', (t) => {
      t.integer('dispatched_by');
    });
  },

  async down(knex) {
    await knex.schema.alterTable('facilitator_cheat_reports', (t) => t.dropColumn('dispatched_by'));
    await knex.schema.alterTable('facilitator_job_statuses', (t) => {
      t.dropUnique(['job_uuid', 'seq']);
      t.dropColumn('seq');
    });
    await knex.schema.alterTable('facilitator_jobs', (t) => {
      t.dropColumn('dispatched_by');
      t.dropColumn('status_seq');
      t.dropColumn('deadline_at');
    });
  },
};
