import type { JobOutcome, ScoreTable, ScoringRule } from '@horde/core';
import { addPoints, copyTable } from '../table.js';
import { CLASSIC_DEFAULTS } from '../defaults.js';

export const SYNTHETIC_JOBS = 'synthetic-jobs';

/** A synthetic job earns its points only if it finished, its answer was right and it was fast enough. */
export function passedSyntheticJob(job: JobOutcome): boolean {
  return job.kind === 'synthetic' && job.status === 'completed' && job.correct === true && job.inTime === true;
}

/**
 * Adds `pointsPerJob` for every synthetic job that passed (ComputeHorde: `score = float(correct)`
 * for a job that finished within its class's bound). Every miner that was sent a synthetic job
 * gets a cell, even with 0 points, so a miner whose jobs all failed stays visible in reports.
 */
export function scoreSyntheticJobs(jobs: readonly JobOutcome[], table: ScoreTable, pointsPerJob: number): ScoreTable {
  const scored = copyTable(table);
  for (const job of jobs) {
    if (job.kind !== 'synthetic') continue;
    addPoints(scored, job.minerHotkey, job.executorClass, passedSyntheticJob(job) ? pointsPerJob : 0);
  }
  return scored;
}

/** Rule `synthetic-jobs`: 1 point (by default) per synthetic job completed correctly and in time. */
export function syntheticJobsRule(options: { readonly pointsPerJob?: number } = {}): ScoringRule {
  const pointsPerJob = options.pointsPerJob ?? CLASSIC_DEFAULTS.syntheticJobPoints;
  return {
    name: SYNTHETIC_JOBS,
    apply: (facts, table) => scoreSyntheticJobs(facts.jobs, table, pointsPerJob),
  };
}
