import type { JobOutcome, ScoreTable, ScoringRule } from '@horde/core';
import { CellSums } from '../table.js';
import { CLASSIC_DEFAULTS } from '../defaults.js';
import { hasTraits, outcomeColumns, Trait, traitsOf } from '../outcomes.js';

export const SYNTHETIC_JOBS = 'synthetic-jobs';

/** A synthetic job earns its points only if it finished, its answer was right and it was fast enough. */
const PASSED = Trait.synthetic | Trait.completed | Trait.correct | Trait.inTime;

export function passedSyntheticJob(job: JobOutcome): boolean {
  return hasTraits(traitsOf(job), PASSED);
}

/**
 * Adds `pointsPerJob` for every synthetic job that passed (ComputeHorde: `score = float(correct)`
 * for a job that finished within its class's bound). Every miner that was sent a synthetic job
 * gets a cell, even with 0 points, so a miner whose jobs all failed stays visible in reports.
 */
export function scoreSyntheticJobs(jobs: readonly JobOutcome[], table: ScoreTable, pointsPerJob: number): ScoreTable {
  const { cells, cellOf, traits } = outcomeColumns(jobs);
  const sums = new CellSums(cells, table);
  for (let i = 0; i < traits.length; i++) {
    const jobTraits = traits[i]!;
    if (jobTraits & Trait.synthetic) sums.add(cellOf[i]!, hasTraits(jobTraits, PASSED) ? pointsPerJob : 0);
  }
  return sums.toTable();
}

/** Rule `synthetic-jobs`: 1 point (by default) per synthetic job completed correctly and in time. */
export function syntheticJobsRule(options: { readonly pointsPerJob?: number } = {}): ScoringRule {
  const pointsPerJob = options.pointsPerJob ?? CLASSIC_DEFAULTS.syntheticJobPoints;
  return {
    name: SYNTHETIC_JOBS,
    apply: (facts, table) => scoreSyntheticJobs(facts.jobs, table, pointsPerJob),
  };
}
