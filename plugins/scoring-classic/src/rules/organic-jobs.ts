import type { JobOutcome, ScoreTable, ScoringRule } from '@horde/core';
import { addPoints, copyTable } from '../table.js';
import { CLASSIC_DEFAULTS } from '../defaults.js';

export const ORGANIC_JOBS = 'organic-jobs';

/**
 * An organic job earns its points when it completed and was not found cheated. Organic results
 * are taken on trust (the client judges them); a cross-check against the trusted miner that
 * disagrees sets `correct: false`. Jobs run on the trusted miner itself never reach the facts.
 */
export function paidOrganicJob(job: JobOutcome): boolean {
  return job.kind === 'organic' && job.status === 'completed' && job.correct !== false;
}

/** Adds `pointsPerJob` for every organic job that completed and was not cheated. */
export function scoreOrganicJobs(jobs: readonly JobOutcome[], table: ScoreTable, pointsPerJob: number): ScoreTable {
  const scored = copyTable(table);
  for (const job of jobs) {
    if (paidOrganicJob(job)) addPoints(scored, job.minerHotkey, job.executorClass, pointsPerJob);
  }
  return scored;
}

/** Rule `organic-jobs`: 1 point (by default) per completed organic job. */
export function organicJobsRule(options: { readonly pointsPerJob?: number } = {}): ScoringRule {
  const pointsPerJob = options.pointsPerJob ?? CLASSIC_DEFAULTS.organicJobPoints;
  return {
    name: ORGANIC_JOBS,
    apply: (facts, table) => scoreOrganicJobs(facts.jobs, table, pointsPerJob),
  };
}
