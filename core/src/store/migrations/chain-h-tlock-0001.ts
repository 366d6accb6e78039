import type { NamedMigration } from './index.js';

/**
 * The LocalChain's timelocked commit-reveal (v4): each subnet's `CommitRevealWeightsVersion`
 * (3 = hash commits, what LocalChains had so far; 4 = drand-timelocked commits), the local
 * beacon's secret key (one per chain, so every process encrypts for the same beacon), and the
 * timelocked commits waiting for their round, kept after the reveal with how it went.
 */
export const chainTimelockMigration: NamedMigration = {
  name: 'chain-h-tlock-0001',

  async up(knex) {
    await knex.schema.alterTable('chain_local_subnets', (t) => {
      t.integer('commit_reveal_version').notNullable().defaultTo(3);
    });
    await knex.schema.alterTable('chain_local_meta', (t) => {
      // 32 bytes, hex. Null on chains created before this migration: drawn on first use.
      t.string('beacon_secret', 64);
    });
    await knex.schema.createTable('chain_local_timelocked_commits', (t) => {
      t.increments('id').primary();
      t.integer('netuid').notNullable();
      t.string('hotkey', 64).notNullable();
      t.bigInteger('commit_block').notNullable();
      t.bigInteger('commit_epoch').notNullable();
      t.bigInteger('reveal_round').notNullable();
      // The tle ciphertext as committed, hex.
      t.text('commit').notNullable();
      // pending | revealed | dropped
      t.string('status', 16).notNullable();
      t.bigInteger('revealed_block');
      // Why a commit was dropped (expired, undecryptable, hotkey mismatch, a set_weights error).
      t.text('reason');
      t.index(['netuid', 'status'], 'chain_local_timelocked_commits_status_idx');
    });
  },

  async down(knex) {
    await knex.schema.dropTable('chain_local_timelocked_commits');
    await knex.schema.alterTable('chain_local_meta', (t) => t.dropColumn('beacon_secret'));
    await knex.schema.alterTable('chain_local_subnets', (t) => t.dropColumn('commit_reveal_version'));
  },
};
