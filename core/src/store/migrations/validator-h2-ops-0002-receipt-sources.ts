import type { NamedMigration } from './index.js';

/**
 * What receipt transfer got from each miner endpoint, for the validator's dashboard: pages read,
 * receipts stored, lines refused (by reason, in their own table), fetch failures, the last fetch
 * and the last failure. One row per (pulling validator, endpoint) and per reason, counters only,
 * so the tables stay as small as the set of miners.
 */
export const validatorReceiptSourcesMigration: NamedMigration = {
  name: 'validator-h2-ops-0002-receipt-sources',

  async up(knex) {
    await knex.schema.createTable('validator_receipt_sources', (t) => {
      t.string('validator_hotkey', 64).notNullable();
      // `host:port` of the miner's HTTP server (as in validator_receipt_checkpoints).
      t.string('endpoint', 300).notNullable();
      // The miner hotkeys registered at the endpoint when it was last read (JSON array).
      t.text('miner_hotkeys').notNullable();
      t.bigInteger('pages').notNullable().defaultTo(0);
      t.bigInteger('stored').notNullable().defaultTo(0);
      t.bigInteger('refused').notNullable().defaultTo(0);
      t.bigInteger('fetch_failures').notNullable().defaultTo(0);
      t.bigInteger('last_fetch_at').notNullable();
      t.bigInteger('last_failure_at');
      t.string('last_error', 300);
      t.primary(['validator_hotkey', 'endpoint']);
    });
    await knex.schema.createTable('validator_receipt_refusals', (t) => {
      t.string('validator_hotkey', 64).notNullable();
      t.string('endpoint', 300).notNullable();
      t.string('reason', 64).notNullable();
      t.bigInteger('count').notNullable().defaultTo(0);
      t.primary(['validator_hotkey', 'endpoint', 'reason']);
    });
  },

  async down(knex) {
    await knex.schema.dropTableIfExists('validator_receipt_refusals');
    await knex.schema.dropTableIfExists('validator_receipt_sources');
  },
};
