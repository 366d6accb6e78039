import type { NamedMigration } from './index.js';

/**
 * The LocalChain's EVM key associations (subtensor's `AssociatedEvmAddress`, set by
 * `associate_evm_key`): per subnet and uid, the H160 a hotkey proved it holds, and the block.
 * The hotkey is kept beside the uid so a uid taken over by another hotkey does not inherit the
 * previous miner's EVM address (and with it its collateral).
 */
export const chainEvmAssociationsMigration: NamedMigration = {
  name: 'chain-h2-collat-0001',

  async up(knex) {
    await knex.schema.createTable('chain_local_evm_associations', (t) => {
      t.integer('netuid').notNullable();
      t.integer('uid').notNullable();
      t.string('hotkey', 64).notNullable();
      t.string('evm_address', 42).notNullable();
      t.bigInteger('block').notNullable();
      t.primary(['netuid', 'uid']);
    });
  },

  async down(knex) {
    await knex.schema.dropTable('chain_local_evm_associations');
  },
};
