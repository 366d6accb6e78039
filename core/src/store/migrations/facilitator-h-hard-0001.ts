import type { NamedMigration } from './index.js';

/**
 * Things the facilitator accepts only once within their lifetime: the X-CH signature of a request
 * (an exact replay inside the 300 s signature window made a duplicate job) and a login nonce
 * (nonces themselves are stateless HMACs now, so asking for one writes nothing). Keys are
 * namespaced (`signature:`, `nonce:`); rows past `expires_at` are swept as new ones come.
 */
export const facilitatorUsedOnceMigration: NamedMigration = {
  name: 'facilitator_h_hard_0001',

  async up(knex) {
    await knex.schema.createTable('facilitator_used_once', (t) => {
      t.string('key', 512).primary();
      t.bigInteger('expires_at').notNullable().index();
    });
  },

  async down(knex) {
    await knex.schema.dropTableIfExists('facilitator_used_once');
  },
};
