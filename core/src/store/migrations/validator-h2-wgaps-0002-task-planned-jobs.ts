import type { NamedMigration } from './index.js';

/**
 * How many jobs a batch task planned (its miners' executors, once their manifests are in), written
 * by the worker running it before the jobs start. The leader adds them up to report the batch's
 * job count when it starts (`batch-started`), as a single-process validator does.
 */
export const validatorTaskPlannedJobsMigration: NamedMigration = {
  name: 'validator-h2-wgaps-0002-task-planned-jobs',

  async up(knex) {
    await knex.schema.alterTable('validator_batch_tasks', (t) => {
      t.integer('planned_jobs');
    });
  },

  async down(knex) {
    await knex.schema.alterTable('validator_batch_tasks', (t) => {
      t.dropColumn('planned_jobs');
    });
  },
};
