import type { NamedMigration } from './index.js';

/**
 * Facilitator workers (N processes on one PostgreSQL): which worker sent a job or a cheat report
 * to its validator (`dispatched_by`, the PostgreSQL backend pid of that worker's own session, so a
 * claim held by a dead worker is seen as such), and a per-job sequence number of its status
 * updates (`status_seq` on the job, `seq` on each history row, unique per job), so an update is
 * applied once and clients read the history in the order it was applied, whichever worker took it.
 */
export const facilitatorWorkersMigration: NamedMigration = {
  name: 'facilitator-h2-facw-0001-workers',

  async up(knex) {
    await knex.schema.alterTable('facilitator_jobs', (t) => {
      t.integer('dispatched_by');
      t.integer('status_seq').notNullable().defaultTo(0);
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
    });
  },
};
