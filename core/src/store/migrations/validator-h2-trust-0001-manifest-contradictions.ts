import type { NamedMigration } from './index.js';

/**
 * Miners whose manifest served over the websocket disagreed with their manifest commitment on
 * chain when a batch read both: one row per (validator, cycle, miner), with both manifests, so the
 * dancing check can refuse a bonus resting on a manifest the miner contradicted, and an operator
 * can see why.
 */
export const validatorManifestContradictionsMigration: NamedMigration = {
  name: 'validator-h2-trust-0001',

  async up(knex) {
    await knex.schema.createTable('validator_manifest_contradictions', (t) => {
      t.string('validator_hotkey', 64).notNullable();
      t.integer('cycle').notNullable();
      t.string('miner_hotkey', 64).notNullable();
      // JSON manifests (executor class → count).
      t.text('served').notNullable();
      t.text('committed').notNullable();
      t.bigInteger('recorded_at').notNullable();
      t.primary(['validator_hotkey', 'cycle', 'miner_hotkey']);
    });
  },

  async down(knex) {
    await knex.schema.dropTable('validator_manifest_contradictions');
  },
};
