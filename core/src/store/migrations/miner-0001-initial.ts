import type { NamedMigration } from './index.js';

/**
 * The miner's tables. Times are milliseconds since the Unix epoch in BIGINT columns: the same
 * number on SQLite and PostgreSQL (pg hands BIGINT back as a string; the repositories convert).
 * JSON documents are TEXT written with `toJsonColumn`, so both dialects read them back alike.
 */
export const minerInitialMigration: NamedMigration = {
  name: 'miner_0001_initial',

  async up(knex) {
    // Every validator that ever authenticated (or tried to), for the operator's view and eviction.
    await knex.schema.createTable('miner_validators', (t) => {
      t.string('hotkey', 64).primary();
      t.bigInteger('first_seen_at').notNullable();
      t.bigInteger('last_seen_at').notNullable();
      // Accepted through `miner.debugAllowedValidators` / local mode rather than the metagraph.
      t.boolean('debug').notNullable().defaultTo(false);
    });

    // Validators whose initial job requests are declined with `validator_blacklisted`.
    await knex.schema.createTable('miner_validator_blacklist', (t) => {
      t.string('validator_hotkey', 64).primary();
      t.text('reason').notNullable().defaultTo('');
      t.bigInteger('created_at').notNullable();
    });

    // One row per V0InitialJobRequest the miner answered (accepted, declined or failed).
    await knex.schema.createTable('miner_jobs', (t) => {
      t.string('job_uuid', 64).primary();
      t.string('validator_hotkey', 64).notNullable().index();
      t.string('miner_hotkey', 64).notNullable();
      t.string('executor_class', 128).notNullable();
      t.string('executor_token', 128).notNullable().unique();
      t.string('status', 32).notNullable().index();
      t.text('initial_job_details').notNullable();
      t.text('full_job_details');
      t.string('executor_address', 128);
      t.integer('exit_status');
      t.text('stdout');
      t.text('stderr');
      t.text('artifacts');
      t.text('upload_results');
      // `reason` of the failure message (JobFailureReason / HordeFailureReason) and its text.
      t.string('error_type', 64);
      t.text('error_detail');
      t.bigInteger('result_reported_at');
      t.bigInteger('time_took_us');
      t.string('score_str', 64);
      t.bigInteger('created_at').notNullable().index();
      t.bigInteger('updated_at').notNullable();
    });

    // The status history of each job, oldest first: what happened and when, for debugging.
    await knex.schema.createTable('miner_job_status_history', (t) => {
      t.increments('id').primary();
      t.string('job_uuid', 64).notNullable().references('job_uuid').inTable('miner_jobs').onDelete('CASCADE');
      t.string('status', 32).notNullable();
      t.text('detail');
      t.bigInteger('at').notNullable();
      t.index(['job_uuid', 'id']);
    });

    // Countersigned receipts. The payload is kept verbatim (JSON text) so that the signing blob
    // recomputed from it is byte-identical to the one both parties signed.
    await knex.schema.createTable('miner_receipts', (t) => {
      t.increments('id').primary();
      t.string('job_uuid', 64).notNullable();
      t.string('receipt_type', 32).notNullable();
      t.string('validator_hotkey', 64).notNullable();
      t.string('miner_hotkey', 64).notNullable();
      // payload.timestamp in ms; eviction and the excuse query filter on it.
      t.bigInteger('timestamp').notNullable();
      // Started receipts only (the busy-excuse query): executor class, organic flag, ttl seconds.
      t.string('executor_class', 128);
      t.boolean('is_organic');
      t.integer('ttl');
      t.text('payload').notNullable();
      t.text('validator_signature').notNullable();
      t.text('miner_signature').notNullable();
      t.bigInteger('created_at').notNullable();
      t.unique(['job_uuid', 'receipt_type']);
      t.index(['receipt_type', 'executor_class', 'timestamp']);
      t.index(['timestamp']);
    });
  },

  async down(knex) {
    await knex.schema.dropTableIfExists('miner_receipts');
    await knex.schema.dropTableIfExists('miner_job_status_history');
    await knex.schema.dropTableIfExists('miner_jobs');
    await knex.schema.dropTableIfExists('miner_validator_blacklist');
    await knex.schema.dropTableIfExists('miner_validators');
  },
};
