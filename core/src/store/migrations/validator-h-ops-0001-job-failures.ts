import type { NamedMigration } from './index.js';

/**
 * Why a job failed, as columns of `validator_jobs` (before, only the free-text `details`), so
 * `horde validator jobs --failed`, the dashboard and the metrics can group failures by reason and
 * stage. Null for jobs that did not fail and for rows written before this migration.
 */
export const validatorJobFailuresMigration: NamedMigration = {
  name: 'validator-h-ops-0001',

  async up(knex) {
    await knex.schema.alterTable('validator_jobs', (t) => {
      // miner, executor or validator: who noticed the failure.
      t.string('failure_source', 16);
      t.string('failure_reason', 64);
      t.string('failure_stage', 64);
      t.text('failure_message');
    });
    await knex.schema.alterTable('validator_jobs', (t) => {
      t.index(['validator_hotkey', 'status', 'created_at'], 'validator_jobs_status_idx');
    });
  },

  async down(knex) {
    await knex.schema.alterTable('validator_jobs', (t) => {
      t.dropIndex(['validator_hotkey', 'status', 'created_at'], 'validator_jobs_status_idx');
    });
    await knex.schema.alterTable('validator_jobs', (t) => {
      t.dropColumn('failure_message');
      t.dropColumn('failure_stage');
      t.dropColumn('failure_reason');
      t.dropColumn('failure_source');
    });
  },
};
