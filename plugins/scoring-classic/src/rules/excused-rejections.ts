import type { CycleFacts, JobOutcome, ScoreTable, ScoringRule } from '@horde/core';
import { addPoints, copyTable } from '../table.js';
import { checkExcuseReceipts, trustedExcuseValidators } from './excuse-receipts.js';
import { CLASSIC_DEFAULTS } from '../defaults.js';

export const EXCUSED_REJECTIONS = 'excused-rejections';

export interface ExcusedRejectionsOptions {
  /** Points for a properly excused rejection (ComputeHorde: `DYNAMIC_EXCUSED_SYNTHETIC_JOB_SCORE`, 1). */
  readonly pointsPerJob?: number;
  /** Stake a validator (with a permit) needs for its organic jobs to excuse a decline. horde: 50,000 (see README). */
  readonly minimumValidatorStake?: number;
  /** Clock skew allowed past a receipt's ttl, in ms. */
  readonly leewayMs?: number;
}

/** Whether the miner took the job; jobs it took count toward covering its declared executors. */
function tookJob(job: JobOutcome): boolean {
  return job.accepted ?? (job.status === 'completed' || job.status === 'failed');
}

/** Synthetic jobs each miner took this cycle, per executor class: `miner → class → count`. */
function countTakenSyntheticJobs(jobs: readonly JobOutcome[]): Map<string, Map<string, number>> {
  const taken = new Map<string, Map<string, number>>();
  for (const job of jobs) {
    if (job.kind !== 'synthetic' || !tookJob(job)) continue;
    const byClass = taken.get(job.minerHotkey) ?? new Map<string, number>();
    byClass.set(job.executorClass, (byClass.get(job.executorClass) ?? 0) + 1);
    taken.set(job.minerHotkey, byClass);
  }
  return taken;
}

/**
 * A miner that declines a synthetic job as `busy` is excused when it can account for every
 * executor it declared for that class: the batch's jobs it did take plus the valid excuse receipts
 * it attached must reach the declared count (ComputeHorde: `accepted_jobs + len(valid) >=
 * executor_count`). A busy decline that falls short, and any other decline, scores 0. A class the
 * miner declared no executors for excuses nothing.
 */
export function scoreExcusedRejections(facts: CycleFacts, table: ScoreTable, options: Required<ExcusedRejectionsOptions>): ScoreTable {
  const scored = copyTable(table);
  const trustedValidators = trustedExcuseValidators(facts.neurons, facts.validatorHotkey, options.minimumValidatorStake);
  const taken = countTakenSyntheticJobs(facts.jobs);
  // Transferred receipts: how long other validators' organic jobs held their executors.
  const evidence = { accepted: facts.acceptedReceipts, finished: facts.finishedReceipts };

  for (const job of facts.jobs) {
    if (job.kind !== 'synthetic' || job.status !== 'rejected') continue;
    const rejection = job.rejection;
    if (rejection?.reason !== 'busy') {
      addPoints(scored, job.minerHotkey, job.executorClass, 0);
      continue;
    }
    const declared = facts.manifests[job.minerHotkey]?.[job.executorClass] ?? 0;
    const { valid } = checkExcuseReceipts(rejection.receipts, {
      declinedJobUuid: job.jobUuid,
      minerHotkey: job.minerHotkey,
      executorClass: job.executorClass,
      checkedAt: rejection.checkedAt,
      trustedValidators,
      leewayMs: options.leewayMs,
      verifySignature: facts.verifyValidatorSignature,
      evidence,
    });
    const accountedFor = (taken.get(job.minerHotkey)?.get(job.executorClass) ?? 0) + valid.length;
    const excused = declared > 0 && accountedFor >= declared;
    addPoints(scored, job.minerHotkey, job.executorClass, excused ? options.pointsPerJob : 0);
  }
  return scored;
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
