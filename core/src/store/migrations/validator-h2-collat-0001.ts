import type { NamedMigration } from './index.js';

/**
 * Collateral slashes of cheated organic jobs (ComputeHorde's `OrganicJob.slashed`/`slashed_at`):
 * the transaction that slashed, or the last error and how many attempts were made, so a job is
 * slashed at most once and a failed slash stays visible and is tried again.
 */
export const validatorSlashesMigration: NamedMigration = {
  name: 'validator-h2-collat-0001',

  async up(knex) {
    await knex.schema.alterTable('validator_organic_jobs', (t) => {
      t.bigInteger('slashed_at');
      t.string('slash_tx', 66);
      // Decimal string: wei amounts pass 2^63.
      t.string('slash_amount_wei', 80);
      // Slash runs (each retries passing RPC errors itself); a restart retries fewer than slashAttempts.
      t.integer('slash_attempts').notNullable().defaultTo(0);
      t.text('slash_error');
    });
  },

  async down(knex) {
    await knex.schema.alterTable('validator_organic_jobs', (t) => {
      t.dropColumn('slashed_at');
      t.dropColumn('slash_tx');
      t.dropColumn('slash_amount_wei');
      t.dropColumn('slash_attempts');
      t.dropColumn('slash_error');
    });
  },
};
