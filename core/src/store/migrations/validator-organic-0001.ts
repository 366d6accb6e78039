import type { NamedMigration } from './index.js';

/**
 * The validator's organic-job tables (jobs that come from a facilitator). The outcome that scoring
 * reads stays in `validator_jobs` (kind `organic`); these keep what routing and cheat handling need.
 */
export const validatorOrganicMigration: NamedMigration = {
  name: 'validator_organic_0001',

  async up(knex) {
    // Every organic job this validator received, so a job the facilitator re-sends is not run twice.
    await knex.schema.createTable('validator_organic_jobs', (t) => {
      t.string('job_uuid', 64).primary();
      t.string('validator_hotkey', 64).notNullable();
      // Null until routed (and for jobs refused before routing).
      t.string('miner_hotkey', 64);
      t.string('executor_class', 128).notNullable();
      t.string('namespace', 256);
      t.boolean('on_trusted_miner').notNullable().defaultTo(false);
      t.string('signatory', 64).notNullable();
      // The last status relayed to the facilitator, and its metadata (for re-sending after a reconnect).
      t.string('status', 32).notNullable();
      t.text('status_metadata');
      t.integer('cycle');
      t.boolean('cheated').notNullable().defaultTo(false);
      t.bigInteger('cheat_reported_at');
      t.text('cheat_details');
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
      t.index(['validator_hotkey', 'miner_hotkey']);
    });

    // Miners that get no organic jobs until `expires_at` (ComputeHorde's `MinerBlacklist`).
    await knex.schema.createTable('validator_miner_blacklist', (t) => {
      t.increments('id').primary();
      t.string('validator_hotkey', 64).notNullable();
      t.string('miner_hotkey', 64).notNullable();
      t.string('reason', 32).notNullable();
      t.text('details').notNullable().defaultTo('');
      t.bigInteger('blacklisted_at').notNullable();
      t.bigInteger('expires_at').notNullable();
      t.index(['validator_hotkey', 'expires_at']);
    });
  },

  async down(knex) {
    await knex.schema.dropTableIfExists('validator_miner_blacklist');
    await knex.schema.dropTableIfExists('validator_organic_jobs');
  },
};
