import type { NamedMigration } from './index.js';

/**
 * The GPU UUIDs each synthetic job's executor reported (nvidia-smi), as a JSON array; null when it
 * reported none. In worker mode a batch's tasks run on different processes, so the one-GPU-one-
 * credit check over the whole batch reads them back from here once every task has ended.
 */
export const validatorJobGpusMigration: NamedMigration = {
  name: 'validator-h2-wgaps-0001-job-gpus',

  async up(knex) {
    await knex.schema.alterTable('validator_jobs', (t) => {
      t.text('gpu_uuids');
    });
  },

  async down(knex) {
    await knex.schema.alterTable('validator_jobs', (t) => {
      t.dropColumn('gpu_uuids');
    });
  },
};
