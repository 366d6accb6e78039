import type { Knex } from 'knex';
import { chainInitialMigration } from './chain-0001-initial.js';
import { chainTimelockMigration } from './chain-h-tlock-0001.js';
import { facilitatorInitialMigration } from './facilitator-0001-initial.js';
import { minerInitialMigration } from './miner-0001-initial.js';
import { validatorInitialMigration } from './validator-0001-initial.js';
import { validatorOrganicMigration } from './validator-organic-0001.js';
import { validatorWeightsModeMigration } from './validator-h-tlock-0001.js';
import { validatorJobFailuresMigration } from './validator-h-ops-0001-job-failures.js';
import { facilitatorUsedOnceMigration } from './facilitator-h-hard-0001.js';
import { validatorReceiptsMigration } from './validator-h-receipts-0001.js';
import { validatorManifestContradictionsMigration } from './validator-h2-trust-0001-manifest-contradictions.js';
import { validatorJobStatusHistoryMigration } from './validator-h2-ops-0001-job-status-history.js';
import { validatorReceiptSourcesMigration } from './validator-h2-ops-0002-receipt-sources.js';
import { chainEvmAssociationsMigration } from './chain-h2-collat-0001.js';
import { validatorSlashesMigration } from './validator-h2-collat-0001.js';
import { validatorBatchTasksMigration } from './validator-h2-workers-0001-batch-tasks.js';
import { chainExtrinsicsMigration } from './chain-h2-workers-0001-extrinsics.js';
import { validatorJobGpusMigration } from './validator-h2-wgaps-0001-job-gpus.js';
import { chainCommitKeysMigration } from './chain-h2-wgaps-0001-commit-keys.js';
import { validatorTaskPlannedJobsMigration } from './validator-h2-wgaps-0002-task-planned-jobs.js';
import { facilitatorWorkersMigration } from './facilitator-h2-facw-0001-workers.js';
import { validatorOrganicWorkerMigration } from './validator-h2-lead-0001-organic-worker.js';

export interface NamedMigration extends Knex.Migration {
  readonly name: string;
}

/**
 * Every schema change, in the order it is applied. Names are permanent (knex records them in
 * `knex_migrations`): add new migrations at the end, never rename or edit a released one.
 */
const migrations: readonly NamedMigration[] = [
  minerInitialMigration,
  chainInitialMigration,
  validatorInitialMigration,
  facilitatorInitialMigration,
  validatorOrganicMigration,
  validatorWeightsModeMigration,
  chainTimelockMigration,
  validatorJobFailuresMigration,
  facilitatorUsedOnceMigration,
  validatorReceiptsMigration,
  validatorManifestContradictionsMigration,
  validatorJobStatusHistoryMigration,
  validatorReceiptSourcesMigration,
  chainEvmAssociationsMigration,
  validatorSlashesMigration,
  validatorBatchTasksMigration,
  chainExtrinsicsMigration,
  validatorJobGpusMigration,
  chainCommitKeysMigration,
  validatorTaskPlannedJobsMigration,
  facilitatorWorkersMigration,
  validatorOrganicWorkerMigration,
];

/** Migrations compiled into the package, so no directory has to be found at run time. */
export const migrationSource: Knex.MigrationSource<NamedMigration> = {
  getMigrations: async () => [...migrations],
  getMigrationName: (migration) => migration.name,
  getMigration: async (migration) => migration,
};
