import type { NamedMigration } from './index.js';

/**
 * What kind of weight submission landed for a cycle (`set_weights`, `commit_reveal_v2`,
 * `timelocked_v4`) and, for timelocked commits, the drand round the chain will reveal them at.
 */
export const validatorWeightsModeMigration: NamedMigration = {
  name: 'validator-h-tlock-0001',

  async up(knex) {
    await knex.schema.alterTable('validator_weights', (t) => {
      t.string('mode', 24);
      t.bigInteger('reveal_round');
    });
  },

  async down(knex) {
    await knex.schema.alterTable('validator_weights', (t) => {
      t.dropColumn('reveal_round');
      t.dropColumn('mode');
    });
  },
};
