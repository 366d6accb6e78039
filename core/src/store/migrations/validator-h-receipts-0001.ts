import type { NamedMigration } from './index.js';

/**
 * Receipt transfer on the validator: every receipt pulled from miners' receipt pages (both
 * signatures verified before it is stored), and how far each page of each miner has been read.
 */
export const validatorReceiptsMigration: NamedMigration = {
  name: 'validator-h-receipts-0001',

  async up(knex) {
    // Receipts are facts signed by both parties, the same whichever validator pulled them: one row
    // per (job, receipt type), the first copy kept.
    await knex.schema.createTable('validator_transferred_receipts', (t) => {
      t.increments('id').primary();
      t.string('job_uuid', 64).notNullable();
      t.string('receipt_type', 32).notNullable();
      t.string('validator_hotkey', 64).notNullable();
      t.string('miner_hotkey', 64).notNullable();
      // payload.timestamp in ms: scoring selects receipts by time.
      t.bigInteger('timestamp').notNullable();
      // Started receipts only: what excuse checks filter on.
      t.string('executor_class', 128);
      t.boolean('is_organic');
      t.text('payload').notNullable();
      t.text('validator_signature').notNullable();
      t.text('miner_signature').notNullable();
      t.bigInteger('received_at').notNullable();
      t.unique(['job_uuid', 'receipt_type']);
      t.index(['miner_hotkey', 'receipt_type', 'timestamp']);
      t.index(['timestamp']);
    });

    // Bytes of `/receipts/{page}.jsonl` already read, per pulling validator, miner endpoint and page.
    await knex.schema.createTable('validator_receipt_checkpoints', (t) => {
      t.string('validator_hotkey', 64).notNullable();
      // `host:port` of the miner's HTTP server: one server serves the pages of all its hotkeys.
      t.string('endpoint', 300).notNullable();
      t.bigInteger('page').notNullable();
      t.bigInteger('offset').notNullable();
      // A closed page read to its end is never fetched again.
      t.boolean('complete').notNullable().defaultTo(false);
      t.bigInteger('updated_at').notNullable();
      t.primary(['validator_hotkey', 'endpoint', 'page']);
    });
  },

  async down(knex) {
    await knex.schema.dropTableIfExists('validator_receipt_checkpoints');
    await knex.schema.dropTableIfExists('validator_transferred_receipts');
  },
};
