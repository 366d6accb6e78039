import type { NamedMigration } from './index.js';

/**
 * The caller's name for a weight submission (the validator's cycle), on each CR-v2 commit row. The
 * row is written before the commit is sent; a validator killed after the chain took the commit but
 * before it recorded so submits the same cycle again after its restart, and the submitter finds
 * the row by its key and reconciles with the chain instead of committing a second time.
 */
export const chainCommitKeysMigration: NamedMigration = {
  name: 'chain-h2-wgaps-0001-commit-keys',

  async up(knex) {
    await knex.schema.alterTable('chain_weight_commits', (t) => {
      t.string('submission_key', 128);
      t.index(['network', 'hotkey', 'netuid', 'submission_key']);
    });
  },

  async down(knex) {
    await knex.schema.alterTable('chain_weight_commits', (t) => {
      t.dropIndex(['network', 'hotkey', 'netuid', 'submission_key']);
      t.dropColumn('submission_key');
    });
  },
};
