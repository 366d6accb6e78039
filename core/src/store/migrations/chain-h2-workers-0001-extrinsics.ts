import type { NamedMigration } from './index.js';

/**
 * The LocalChain's extrinsic log: every weights extrinsic the chain accepted (set, commit,
 * timelocked commit, reveal), in order, with its signer and block. A real chain keeps its
 * extrinsics in blocks; tests and operators read this table to check what reached the chain
 * (e.g. that N validator workers committed a cycle's weights once and revealed them once).
 */
export const chainExtrinsicsMigration: NamedMigration = {
  name: 'chain-h2-workers-0001-extrinsics',

  async up(knex) {
    await knex.schema.createTable('chain_local_extrinsics', (t) => {
      t.increments('id').primary();
      t.integer('netuid').notNullable();
      t.bigInteger('block').notNullable();
      t.string('hotkey', 64).notNullable();
      // set_weights | commit_weights | commit_timelocked_weights | reveal_weights
      t.string('call', 64).notNullable();
      t.index(['netuid', 'hotkey']);
    });
  },

  async down(knex) {
    await knex.schema.dropTableIfExists('chain_local_extrinsics');
  },
};
