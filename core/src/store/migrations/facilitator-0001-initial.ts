import type { NamedMigration } from './index.js';

/**
 * The facilitator's tables. Times are ms since the epoch (BIGINT; pg returns them as strings and
 * the repository converts); JSON documents are TEXT written with `toJsonColumn`.
 */
export const facilitatorInitialMigration: NamedMigration = {
  name: 'facilitator_0001_initial',

  async up(knex) {
    // Settings the facilitator generates once and keeps (the token secret).
    await knex.schema.createTable('facilitator_settings', (t) => {
      t.string('key', 64).primary();
      t.text('value').notNullable();
    });

    // Login nonces: each is deleted when used, so it logs in at most once.
    await knex.schema.createTable('facilitator_nonces', (t) => {
      t.string('nonce', 128).primary();
      t.bigInteger('expires_at').notNullable();
      t.index(['expires_at']);
    });

    // One row per submitted job; `status` is the latest entry of its history.
    await knex.schema.createTable('facilitator_jobs', (t) => {
      t.string('uuid', 64).primary();
      t.string('user_hotkey', 64).notNullable();
      t.string('target_validator_hotkey', 64).notNullable();
      t.string('executor_class', 128).notNullable();
      t.text('docker_image').notNullable();
      t.string('job_namespace', 256);
      t.text('args').notNullable();
      t.text('env').notNullable();
      t.boolean('use_gpu').notNullable().defaultTo(false);
      t.text('volumes').notNullable();
      t.text('uploads').notNullable();
      t.text('artifacts_dir');
      t.boolean('on_trusted_miner').notNullable().defaultTo(false);
      t.integer('download_time_limit').notNullable();
      t.integer('execution_time_limit').notNullable();
      t.integer('upload_time_limit').notNullable();
      t.integer('streaming_start_time_limit').notNullable();
      t.text('streaming_details');
      // The user's X-CH signature, forwarded to the validator (timestamp_ns as a decimal string).
      t.text('signature').notNullable();
      t.string('status', 32).notNullable();
      t.text('stdout').notNullable().defaultTo('');
      t.text('stderr').notNullable().defaultTo('');
      t.text('artifacts').notNullable().defaultTo('{}');
      t.text('upload_results').notNullable().defaultTo('{}');
      t.text('streaming_server_cert');
      t.string('streaming_server_address', 256);
      t.integer('streaming_server_port');
      // Last time the job was pushed to its validator; null while it waits for one to be online.
      t.bigInteger('dispatched_at');
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
      t.index(['user_hotkey', 'created_at']);
      t.index(['target_validator_hotkey', 'status']);
    });

    // Every status a job went through, as the validator reported it.
    await knex.schema.createTable('facilitator_job_statuses', (t) => {
      t.increments('id').primary();
      t.string('job_uuid', 64).notNullable().references('uuid').inTable('facilitator_jobs').onDelete('CASCADE');
      t.string('status', 32).notNullable();
      t.text('metadata');
      t.bigInteger('created_at').notNullable();
      t.index(['job_uuid', 'id']);
    });

    // Cheat reports: a job whose result disagreed with the same job run on the trusted miner.
    await knex.schema.createTable('facilitator_cheat_reports', (t) => {
      t.string('job_uuid', 64).primary().references('uuid').inTable('facilitator_jobs').onDelete('CASCADE');
      t.string('trusted_job_uuid', 64).notNullable();
      t.string('reporter_hotkey', 64).notNullable();
      t.string('validator_hotkey', 64).notNullable();
      t.text('details');
      t.text('signature').notNullable();
      t.bigInteger('dispatched_at');
      t.bigInteger('created_at').notNullable();
      t.index(['validator_hotkey', 'dispatched_at']);
    });

    // Latest machine specs validators relayed, per miner.
    await knex.schema.createTable('facilitator_machine_specs', (t) => {
      t.string('miner_hotkey', 64).notNullable();
      t.string('validator_hotkey', 64).notNullable();
      t.text('specs').notNullable();
      t.string('batch_id', 128).notNullable();
      t.bigInteger('received_at').notNullable();
      t.primary(['miner_hotkey', 'validator_hotkey']);
    });
  },

  async down(knex) {
    for (const table of [
      'facilitator_machine_specs',
      'facilitator_cheat_reports',
      'facilitator_job_statuses',
      'facilitator_jobs',
      'facilitator_nonces',
      'facilitator_settings',
    ]) {
      await knex.schema.dropTableIfExists(table);
    }
  },
};
