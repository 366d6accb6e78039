import type { NamedMigration } from './index.js';

/**
 * Which validator worker runs an organic job (its PostgreSQL session pid; null for a single-process
 * validator). A worker that starts closes only the organic jobs of workers whose session is gone,
 * not those the live workers are running.
 */
export const validatorOrganicWorkerMigration: NamedMigration = {
  name: 'validator-h2-lead-0001-organic-worker',

  async up(knex) {
    await knex.schema.alterTable('validator_organic_jobs', (t) => {
      t.integer('worker_pid');
    });
  },

  async down(knex) {
    await knex.schema.alterTable('validator_organic_jobs', (t) => {
      t.dropColumn('worker_pid');
    });
  },
};
