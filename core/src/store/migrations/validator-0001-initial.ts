import type { NamedMigration } from './index.js';

/**
 * The validator's tables. Each row names the validator hotkey, so several validators may share
 * one database (the devnet). Times are ms since the epoch (BIGINT; pg returns them as strings and
 * the repositories convert); JSON documents are TEXT written with `toJsonColumn`.
 */
export const validatorInitialMigration: NamedMigration = {
  name: 'validator_0001_initial',

  async up(knex) {
    // One row per synthetic batch (at most one per cycle).
    await knex.schema.createTable('validator_batches', (t) => {
      t.string('validator_hotkey', 64).notNullable();
      t.integer('cycle').notNullable();
      t.bigInteger('block').notNullable();
      t.bigInteger('started_at').notNullable();
      t.bigInteger('finished_at');
      t.integer('miners').notNullable().defaultTo(0);
      t.integer('jobs').notNullable().defaultTo(0);
      // From the first initial request to the last finished receipt, minus the longest job run.
      t.integer('overhead_ms');
      t.string('status', 16).notNullable();
      t.primary(['validator_hotkey', 'cycle']);
    });

    // Executor counts each miner declared for the cycle's batch.
    await knex.schema.createTable('validator_manifests', (t) => {
      t.string('validator_hotkey', 64).notNullable();
      t.integer('cycle').notNullable();
      t.string('miner_hotkey', 64).notNullable();
      t.string('executor_class', 128).notNullable();
      t.integer('count').notNullable();
      t.primary(['validator_hotkey', 'cycle', 'miner_hotkey', 'executor_class']);
    });

    // The main hotkey each coldkey named for a cycle (dancing).
    await knex.schema.createTable('validator_main_hotkeys', (t) => {
      t.string('validator_hotkey', 64).notNullable();
      t.integer('cycle').notNullable();
      t.string('coldkey', 64).notNullable();
      t.string('main_hotkey', 64).notNullable();
      t.string('reported_by', 64).notNullable();
      t.primary(['validator_hotkey', 'cycle', 'coldkey']);
    });

    // Every job's outcome: synthetic jobs of the batches and organic jobs routed by this validator.
    await knex.schema.createTable('validator_jobs', (t) => {
      t.string('job_uuid', 64).primary();
      t.string('validator_hotkey', 64).notNullable();
      t.integer('cycle').notNullable();
      t.string('miner_hotkey', 64).notNullable();
      t.string('executor_class', 128).notNullable();
      t.string('kind', 16).notNullable();
      t.string('generator', 128);
      t.text('description').notNullable().defaultTo('');
      t.string('status', 16).notNullable();
      t.boolean('accepted').notNullable().defaultTo(false);
      t.boolean('correct');
      t.boolean('in_time');
      t.integer('time_took_ms');
      t.text('details').notNullable().defaultTo('');
      t.string('rejection_reason', 64);
      t.text('rejection_receipts');
      t.bigInteger('checked_at');
      t.double('executor_seconds');
      t.text('paid_with_blocks');
      t.bigInteger('created_at').notNullable();
      t.index(['validator_hotkey', 'cycle']);
    });

    // The score table after each rule of the pipeline, for `horde validator scores`.
    await knex.schema.createTable('validator_score_steps', (t) => {
      t.string('validator_hotkey', 64).notNullable();
      t.integer('cycle').notNullable();
      t.integer('step').notNullable();
      t.string('rule', 128).notNullable();
      t.string('hotkey', 64).notNullable();
      t.string('executor_class', 128).notNullable();
      t.double('points').notNullable();
      t.primary(['validator_hotkey', 'cycle', 'step', 'hotkey', 'executor_class']);
    });

    // Final weights of a scored cycle, per hotkey.
    await knex.schema.createTable('validator_scores', (t) => {
      t.string('validator_hotkey', 64).notNullable();
      t.integer('cycle').notNullable();
      t.string('hotkey', 64).notNullable();
      t.integer('uid');
      t.double('weight').notNullable();
      t.bigInteger('scored_at').notNullable();
      t.primary(['validator_hotkey', 'cycle', 'hotkey']);
    });

    // What was put on chain for a cycle, when, and how it went.
    await knex.schema.createTable('validator_weights', (t) => {
      t.increments('id').primary();
      t.string('validator_hotkey', 64).notNullable();
      t.integer('cycle').notNullable();
      t.string('status', 16).notNullable();
      t.bigInteger('block');
      t.bigInteger('reveal_block');
      t.text('uids').notNullable();
      t.text('weights').notNullable();
      t.integer('attempts').notNullable();
      t.text('error');
      t.bigInteger('created_at').notNullable();
      t.index(['validator_hotkey', 'cycle']);
    });
  },

  async down(knex) {
    for (const table of [
      'validator_weights',
      'validator_scores',
      'validator_score_steps',
      'validator_jobs',
      'validator_main_hotkeys',
      'validator_manifests',
      'validator_batches',
    ]) {
      await knex.schema.dropTableIfExists(table);
    }
  },
};
