import type { NamedMigration } from './index.js';

/**
 * Validator workers (`horde validator --workers N` on PostgreSQL): the plan of a batch split into
 * tasks, one queue job each (pg-boss runs and retries them). A task row names its miners, the
 * queue job that runs it, the worker session running it now (to notice a dead worker at once),
 * and, once done, the task's summary. The queue keeps the job's state; this table keeps what the
 * batch needs to be resumed by another leader and summed up.
 */
export const validatorBatchTasksMigration: NamedMigration = {
  name: 'validator-h2-workers-0001-batch-tasks',

  async up(knex) {
    await knex.schema.createTable('validator_batch_tasks', (t) => {
      t.string('validator_hotkey', 64).notNullable();
      t.integer('cycle').notNullable();
      t.integer('task').notNullable();
      // The pg-boss job id (uuid) that runs this task.
      t.string('queue_job_id', 64).notNullable();
      // MinerTarget[] as JSON.
      t.text('targets').notNullable();
      // PostgreSQL backend pid of the worker session running the task now (null: nobody yet).
      t.integer('worker_pid');
      t.string('worker_name', 128);
      t.integer('attempts').notNullable().defaultTo(0);
      // Task summary ({ miners, jobs, outcomes, durationMs, longestJobMs, overheadMs }) once done.
      t.text('result');
      t.bigInteger('updated_at').notNullable();
      t.primary(['validator_hotkey', 'cycle', 'task']);
    });
  },

  async down(knex) {
    await knex.schema.dropTableIfExists('validator_batch_tasks');
  },
};
