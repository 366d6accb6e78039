import type { Knex } from 'knex';
import { MinerJobsRepository, type JobStageEnded } from './jobs.js';
import { MinerReceiptsRepository } from './receipts.js';
import { MinerValidatorsRepository } from './validators.js';

export * from './jobs.js';
export * from './receipts.js';
export * from './validators.js';

/** The miner's repositories over one knex connection (tables `miner_*`, see the migration). */
export interface MinerStore {
  readonly jobs: MinerJobsRepository;
  readonly receipts: MinerReceiptsRepository;
  readonly validators: MinerValidatorsRepository;
}

export function createMinerStore(db: Knex, now: () => number, hooks: { onStageEnded?: (event: JobStageEnded) => void } = {}): MinerStore {
  return {
    jobs: new MinerJobsRepository(db, now, hooks.onStageEnded),
    receipts: new MinerReceiptsRepository(db, now),
    validators: new MinerValidatorsRepository(db, now),
  };
}
