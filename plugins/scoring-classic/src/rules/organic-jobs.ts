import type { JobOutcome, ScoreTable, ScoringRule } from '@horde/core';
import { CellSums } from '../table.js';
import { CLASSIC_DEFAULTS } from '../defaults.js';
import { hasTraits, outcomeColumns, Trait, traitsOf } from '../outcomes.js';

export const ORGANIC_JOBS = 'organic-jobs';

/**
 * An organic job earns its points when it completed and was not found cheated. Organic results
 * are taken on trust (the client judges them); a cross-check against the trusted miner that
 * disagrees sets `correct: false`. Jobs run on the trusted miner itself never reach the facts.
 */
export function paidOrganicJob(job: JobOutcome): boolean {
  return paidTraits(traitsOf(job));
}

function paidTraits(traits: number): boolean {
  return hasTraits(traits, Trait.organic | Trait.completed) && (traits & Trait.incorrect) === 0;
}

/** Adds `pointsPerJob` for every organic job that completed and was not cheated. */
export function scoreOrganicJobs(jobs: readonly JobOutcome[], table: ScoreTable, pointsPerJob: number): ScoreTable {
  const { cells, cellOf, traits } = outcomeColumns(jobs);
  const sums = new CellSums(cells, table);
  for (let i = 0; i < traits.length; i++) if (paidTraits(traits[i]!)) sums.add(cellOf[i]!, pointsPerJob);
  return sums.toTable();
}

/** Rule `organic-jobs`: 1 point (by default) per completed organic job. */
export function organicJobsRule(options: { readonly pointsPerJob?: number } = {}): ScoringRule {
  const pointsPerJob = options.pointsPerJob ?? CLASSIC_DEFAULTS.organicJobPoints;
  return {
    name: ORGANIC_JOBS,
    apply: (facts, table) => scoreOrganicJobs(facts.jobs, table, pointsPerJob),
  };
}
