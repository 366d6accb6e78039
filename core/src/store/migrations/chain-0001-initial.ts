import type { NamedMigration } from './index.js';

/**
 * The chain's tables.
 *
 * `chain_weight_commits` is the client side of commit-reveal (any network): the salt and weights of
 * each commit this process made, so a restarted validator still reveals them.
 *
 * `chain_local_*` is the state of the embedded LocalChain, shared by every process that opens the
 * same store (devnet: chain owner, validator, miners). Block numbers and times are BIGINT (pg hands
 * them back as strings; the repositories convert); stakes are whole TAO/alpha in DOUBLE columns.
 */
export const chainInitialMigration: NamedMigration = {
  name: 'chain_0001_initial',

  async up(knex) {
    await knex.schema.createTable('chain_weight_commits', (t) => {
      t.increments('id').primary();
      // `finney`, `test`, `local` or the node URL: commits of different chains never mix.
      t.string('network', 255).notNullable();
      t.integer('netuid').notNullable();
      t.string('hotkey', 64).notNullable();
      t.string('commit_hash', 66).notNullable();
      t.text('uids').notNullable(); // JSON number[]
      t.text('weight_values').notNullable(); // JSON number[] (u16)
      t.text('salt').notNullable(); // JSON number[] (u16)
      t.bigInteger('version_key').notNullable();
      // Null until the commit is in a block (a crash in between is recovered from chain state).
      t.bigInteger('commit_block').nullable();
      t.bigInteger('first_reveal_block').nullable();
      t.bigInteger('last_reveal_block').nullable();
      // pending → revealed | expired | failed
      t.string('status', 16).notNullable();
      t.bigInteger('revealed_block').nullable();
      t.text('error').nullable();
      t.bigInteger('created_at').notNullable();
      t.index(['network', 'hotkey', 'netuid', 'status'], 'chain_weight_commits_pending_idx');
    });

    // One row: when block 0 was and how long a block is, so every process derives the same block.
    await knex.schema.createTable('chain_local_meta', (t) => {
      t.integer('id').primary();
      t.bigInteger('genesis_ms').notNullable();
      t.integer('block_time_ms').notNullable();
      // Weight of root TAO in a hotkey's total stake (`TaoWeight`).
      t.double('tao_weight').notNullable();
      // Bumped first thing in every write transaction: on SQLite that takes the write lock up front
      // (a deferred transaction upgrading later can fail with SQLITE_BUSY), on PostgreSQL the row
      // lock serialises writers.
      t.bigInteger('write_seq').notNullable().defaultTo(0);
    });

    await knex.schema.createTable('chain_local_subnets', (t) => {
      t.integer('netuid').primary();
      t.integer('tempo').notNullable();
      t.bigInteger('weights_rate_limit').notNullable();
      t.boolean('commit_reveal_enabled').notNullable();
      t.bigInteger('reveal_period_epochs').notNullable();
      t.integer('min_allowed_weights').notNullable();
      t.integer('max_weights_limit').notNullable();
      t.bigInteger('weights_version_key').notNullable();
      t.integer('activity_cutoff').notNullable();
      t.double('stake_threshold').notNullable();
      t.bigInteger('serving_rate_limit').notNullable();
      // Alpha emitted per block and split by the epoch; see local/consensus.ts.
      t.double('emission_per_block').notNullable();
      // Last epoch index whose incentive/emission has been computed (lazily, on read or write).
      t.bigInteger('last_epoch').notNullable();
      t.bigInteger('last_epoch_block').notNullable();
    });

    await knex.schema.createTable('chain_local_neurons', (t) => {
      t.integer('netuid').notNullable();
      t.integer('uid').notNullable();
      t.string('hotkey', 64).notNullable();
      t.string('coldkey', 64).notNullable();
      t.double('alpha_stake').notNullable();
      t.double('tao_stake').notNullable();
      t.boolean('validator_permit').notNullable();
      t.bigInteger('registered_block').notNullable();
      t.bigInteger('last_update').notNullable();
      t.string('axon_ip', 64).nullable();
      t.integer('axon_port').notNullable().defaultTo(0);
      t.integer('axon_ip_type').notNullable().defaultTo(0);
      t.integer('axon_protocol').notNullable().defaultTo(0);
      t.bigInteger('axon_version').notNullable().defaultTo(0);
      t.bigInteger('axon_block').notNullable().defaultTo(0);
      t.double('incentive').notNullable().defaultTo(0);
      t.double('dividends').notNullable().defaultTo(0);
      t.double('consensus').notNullable().defaultTo(0);
      t.double('emission').notNullable().defaultTo(0);
      t.double('emission_total').notNullable().defaultTo(0);
      t.primary(['netuid', 'uid']);
      t.unique(['netuid', 'hotkey']);
    });

    // Revealed / set weights: one row per (setter uid, destination uid), values as on chain (u16).
    await knex.schema.createTable('chain_local_weights', (t) => {
      t.integer('netuid').notNullable();
      t.integer('uid').notNullable();
      t.integer('dest_uid').notNullable();
      t.integer('value').notNullable();
      t.primary(['netuid', 'uid', 'dest_uid']);
    });

    // subtensor's `WeightCommits` queue: (hash, commit block, first reveal block, last reveal block).
    await knex.schema.createTable('chain_local_weight_commits', (t) => {
      t.increments('id').primary();
      t.integer('netuid').notNullable();
      t.string('hotkey', 64).notNullable();
      t.string('commit_hash', 66).notNullable();
      t.bigInteger('commit_block').notNullable();
      t.bigInteger('first_reveal_block').notNullable();
      t.bigInteger('last_reveal_block').notNullable();
      t.index(['netuid', 'hotkey'], 'chain_local_weight_commits_hotkey_idx');
    });

    // Knowledge commitments (`Commitments.CommitmentOf`), one per hotkey and subnet.
    await knex.schema.createTable('chain_local_commitments', (t) => {
      t.integer('netuid').notNullable();
      t.string('hotkey', 64).notNullable();
      t.text('data').notNullable();
      t.bigInteger('block').notNullable();
      t.primary(['netuid', 'hotkey']);
    });
  },

  async down(knex) {
    for (const table of [
      'chain_local_commitments',
      'chain_local_weight_commits',
      'chain_local_weights',
      'chain_local_neurons',
      'chain_local_subnets',
      'chain_local_meta',
      'chain_weight_commits',
    ]) {
      await knex.schema.dropTableIfExists(table);
    }
  },
};
