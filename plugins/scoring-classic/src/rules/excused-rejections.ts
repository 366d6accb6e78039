import type { CycleFacts, JobOutcome, ScoreTable, ScoringRule } from '@horde/core';
import { CellSums } from '../table.js';
import { checkExcuseReceipts, trustedExcuseValidators } from './excuse-receipts.js';
import { CLASSIC_DEFAULTS } from '../defaults.js';
import { hasTraits, outcomeColumns, Trait, type Cell, type OutcomeColumns } from '../outcomes.js';

export const EXCUSED_REJECTIONS = 'excused-rejections';

export interface ExcusedRejectionsOptions {
  /** Points for a properly excused rejection (ComputeHorde: `DYNAMIC_EXCUSED_SYNTHETIC_JOB_SCORE`, 1). */
  readonly pointsPerJob?: number;
  /** Stake a validator (with a permit) needs for its organic jobs to excuse a decline. horde: 50,000 (see README). */
  readonly minimumValidatorStake?: number;
  /** Clock skew allowed past a receipt's ttl, in ms. */
  readonly leewayMs?: number;
}

/**
 * Whether the miner took the job (`accepted`, or when absent: it completed or failed); jobs it
 * took count toward covering its declared executors.
 */
function tookJob(traits: number): boolean {
  if (traits & Trait.accepted) return true;
  return (traits & Trait.declined) === 0 && (traits & (Trait.completed | Trait.failed)) !== 0;
}

/** Synthetic jobs each miner took this cycle, per cell (miner, executor class). */
function countTakenSyntheticJobs({ cells, cellOf, traits }: OutcomeColumns): Int32Array {
  const taken = new Int32Array(cells.length);
  for (let i = 0; i < traits.length; i++) {
    const jobTraits = traits[i]!;
    if (jobTraits & Trait.synthetic && tookJob(jobTraits)) taken[cellOf[i]!]!++;
  }
  return taken;
}

/** Executors each miner declared for each class, per cell (0 when its manifest has none). */
function declaredExecutors(manifests: CycleFacts['manifests'], cells: readonly Cell[]): Float64Array {
  const declared = new Float64Array(cells.length);
  for (let cell = 0; cell < cells.length; cell++) {
    const { hotkey, executorClass } = cells[cell]!;
    declared[cell] = manifests[hotkey]?.[executorClass] ?? 0;
  }
  return declared;
}

/**
 * A miner that declines a synthetic job as `busy` is excused when it can account for every
 * executor it declared for that class: the batch's jobs it did take plus the valid excuse receipts
 * it attached must reach the declared count (ComputeHorde: `accepted_jobs + len(valid) >=
 * executor_count`). A busy decline that falls short, and any other decline, scores 0. A class the
 * miner declared no executors for excuses nothing.
 */
export function scoreExcusedRejections(facts: CycleFacts, table: ScoreTable, options: Required<ExcusedRejectionsOptions>): ScoreTable {
  const trustedValidators = trustedExcuseValidators(facts.neurons, facts.validatorHotkey, options.minimumValidatorStake);
  const columns = outcomeColumns(facts.jobs);
  const { cells, cellOf, traits } = columns;
  const taken = countTakenSyntheticJobs(columns);
  const declaredOf = declaredExecutors(facts.manifests, cells);
  const sums = new CellSums(cells, table);
  // Transferred receipts: how long other validators' organic jobs held their executors.
  const evidence = { accepted: facts.acceptedReceipts, finished: facts.finishedReceipts };

  for (let i = 0; i < traits.length; i++) {
    if (!hasTraits(traits[i]!, Trait.synthetic | Trait.rejected)) continue;
    const job = facts.jobs[i] as JobOutcome;
    const cell = cellOf[i]!;
    const rejection = job.rejection;
    const declared = declaredOf[cell]!;
    if (rejection?.reason !== 'busy' || declared <= 0) {
      sums.add(cell, 0);
      continue;
    }
    // Receipts are checked (signatures verified) only when the jobs taken leave executors unaccounted for.
    const unaccounted = declared - taken[cell]!;
    const excused =
      unaccounted <= 0 ||
      checkExcuseReceipts(rejection.receipts, {
        declinedJobUuid: job.jobUuid,
        minerHotkey: job.minerHotkey,
        executorClass: job.executorClass,
        checkedAt: rejection.checkedAt,
        trustedValidators,
        leewayMs: options.leewayMs,
        verifySignature: facts.verifyValidatorSignature,
        evidence,
      }).valid.length >= unaccounted;
    sums.add(cell, excused ? options.pointsPerJob : 0);
  }
  return sums.toTable();
}

/** Rule `excused-rejections`: 1 point (by default) per busy decline backed by enough valid receipts. */
export function excusedRejectionsRule(options: ExcusedRejectionsOptions = {}): ScoringRule {
  const resolved: Required<ExcusedRejectionsOptions> = {
    pointsPerJob: options.pointsPerJob ?? CLASSIC_DEFAULTS.excusedJobPoints,
    minimumValidatorStake: options.minimumValidatorStake ?? CLASSIC_DEFAULTS.excuseMinimumValidatorStake,
    leewayMs: options.leewayMs ?? CLASSIC_DEFAULTS.excuseLeewaySeconds * 1000,
  };
  return {
    name: EXCUSED_REJECTIONS,
    apply: (facts, table) => scoreExcusedRejections(facts, table, resolved),
  };
}
