import type { NamedMigration } from './index.js';

/**
 * Every job's status transitions with their times (before, only the final status was kept), for
 * `horde validator jobs <uuid>` and the dashboard's job page. Written with the job's row; at most
 * `MAX_JOB_TRANSITIONS` rows per job, and deleted with the job row (the foreign key cascades), so
 * the history lives exactly as long as the job it belongs to.
 */
export const validatorJobStatusHistoryMigration: NamedMigration = {
  name: 'validator-h2-ops-0001-job-status-history',

  async up(knex) {
    await knex.schema.createTable('validator_job_status_history', (t) => {
      t.string('job_uuid', 64).notNullable().references('job_uuid').inTable('validator_jobs').onDelete('CASCADE');
      // Order of the transition within its job (0 = the initial request sent).
      t.integer('seq').notNullable();
      t.string('status', 32).notNullable();
      // ms since the epoch, the validator's clock.
      t.bigInteger('at').notNullable();
      // What came with it, when anything did (a failure's reason and stage, a decline's reason).
      t.string('detail', 300);
      t.primary(['job_uuid', 'seq']);
    });
  },

  async down(knex) {
    await knex.schema.dropTableIfExists('validator_job_status_history');
  },
};
