import { describe, expect, it } from 'vitest';
import type { CycleFacts, JobOutcome, ScoreTable } from '@horde/core';
import { scoringFacts } from '@horde/core/testkit';
import { outcomeColumns, Trait, traitsOf } from './outcomes.js';
import { scoreExcusedRejections } from './rules/excused-rejections.js';
import { scoreOrganicJobs } from './rules/organic-jobs.js';
import { scoreSyntheticJobs } from './rules/synthetic-jobs.js';

/**
 * The rules read outcomes through columns (outcomes.ts). These references are the rules as they
 * were written before, one walk over the outcome objects each, adding job by job; the columnar
 * rules must give the same tables: the same numbers (floating-point sums in the same order) and
 * the same row and cell order (weights and reports list hotkeys in table order).
 */
type Table = Record<string, Record<string, number>>;

function copy(table: ScoreTable): Table {
  return Object.fromEntries(Object.entries(table).map(([hotkey, row]) => [hotkey, { ...row }]));
}

function add(table: Table, job: JobOutcome, points: number): void {
  const row = (table[job.minerHotkey] ??= {});
  row[job.executorClass] = (row[job.executorClass] ?? 0) + points;
}

function referenceSynthetic(jobs: readonly JobOutcome[], table: ScoreTable, points: number): Table {
  const scored = copy(table);
  for (const job of jobs) {
    if (job.kind !== 'synthetic') continue;
    const passed = job.status === 'completed' && job.correct === true && job.inTime === true;
    add(scored, job, passed ? points : 0);
  }
  return scored;
}

function referenceOrganic(jobs: readonly JobOutcome[], table: ScoreTable, points: number): Table {
  const scored = copy(table);
  for (const job of jobs) if (job.kind === 'organic' && job.status === 'completed' && job.correct !== false) add(scored, job, points);
  return scored;
}

/** Busy declines without receipts: excused when the jobs taken cover the declared executors. */
function referenceExcused(facts: CycleFacts, table: ScoreTable, points: number): Table {
  const scored = copy(table);
  const taken = new Map<string, number>();
  for (const job of facts.jobs) {
    const took = job.accepted ?? (job.status === 'completed' || job.status === 'failed');
    if (job.kind === 'synthetic' && took)
      taken.set(`${job.minerHotkey}/${job.executorClass}`, (taken.get(`${job.minerHotkey}/${job.executorClass}`) ?? 0) + 1);
  }
  for (const job of facts.jobs) {
    if (job.kind !== 'synthetic' || job.status !== 'rejected') continue;
    const declared = facts.manifests[job.minerHotkey]?.[job.executorClass] ?? 0;
    const covered = (taken.get(`${job.minerHotkey}/${job.executorClass}`) ?? 0) >= declared;
    add(scored, job, job.rejection?.reason === 'busy' && declared > 0 && covered ? points : 0);
  }
  return scored;
}

/** A deterministic mix of every shape an outcome takes: optional fields absent, true or false. */
function mixedOutcomes(count: number, seed: number): JobOutcome[] {
  let state = seed;
  const next = (n: number): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % n;
  };
  const pick = <T>(values: readonly T[]): T => values[next(values.length)] as T;
  const maybe = (): boolean | undefined => pick([true, false, undefined]);
  const jobs: JobOutcome[] = [];
  for (let n = 0; n < count; n++) {
    const status = pick(['completed', 'failed', 'rejected', 'horde_failed'] as const);
    const correct = maybe();
    const inTime = maybe();
    const accepted = maybe();
    jobs.push({
      jobUuid: `job-${n}`,
      // Fresh string instances, as rows read from a database are.
      minerHotkey: `miner-${next(9)}`,
      executorClass: pick(['class-a', 'class-b', 'class-c']),
      kind: pick(['synthetic', 'organic'] as const),
      status,
      ...(correct === undefined ? {} : { correct }),
      ...(inTime === undefined ? {} : { inTime }),
      ...(accepted === undefined ? {} : { accepted }),
      ...(status === 'rejected' ? { rejection: { reason: pick(['busy', 'other']), receipts: [], checkedAt: 0 } } : {}),
    });
  }
  return jobs;
}

/** A table the rules receive from earlier ones: some cells present, with fractional points. */
const EARLIER: ScoreTable = { 'miner-4': { 'class-b': 0.7, 'class-z': 2 }, 'miner-x': { 'class-a': 1.3 } };
const MANIFESTS = { 'miner-1': { 'class-a': 3 }, 'miner-2': { 'class-b': 40 }, 'miner-5': { 'class-a': 1, 'class-c': 2 } };

describe('outcome columns', () => {
  for (const seed of [1, 7, 42]) {
    it(`give the tables of the job-by-job rules (seed ${seed})`, () => {
      const jobs = mixedOutcomes(3_000, seed);
      for (const table of [{}, EARLIER]) {
        // JSON text compares numbers exactly and keys in order.
        expect(JSON.stringify(scoreSyntheticJobs(jobs, table, 0.1))).toBe(JSON.stringify(referenceSynthetic(jobs, table, 0.1)));
        expect(JSON.stringify(scoreOrganicJobs(jobs, table, 0.3))).toBe(JSON.stringify(referenceOrganic(jobs, table, 0.3)));
        const facts = scoringFacts({ jobs, manifests: MANIFESTS });
        const options = { pointsPerJob: 0.7, minimumValidatorStake: 0, leewayMs: 0 };
        expect(JSON.stringify(scoreExcusedRejections(facts, table, options))).toBe(JSON.stringify(referenceExcused(facts, table, 0.7)));
      }
    });
  }

  it('index every outcome once, by its (hotkey, class) cell', () => {
    const jobs = mixedOutcomes(500, 3);
    const columns = outcomeColumns(jobs);
    expect(outcomeColumns(jobs)).toBe(columns);
    expect(columns.cellOf).toHaveLength(jobs.length);
    jobs.forEach((job, i) => {
      expect(columns.cells[columns.cellOf[i]!]).toEqual({ hotkey: job.minerHotkey, executorClass: job.executorClass });
      expect(columns.traits[i]).toBe(traitsOf(job));
    });
    expect(new Set(columns.cells.map((cell) => `${cell.hotkey}/${cell.executorClass}`)).size).toBe(columns.cells.length);
  });

  it('keep absent and false apart, and give horde_failed no status', () => {
    const base = { jobUuid: 'j', minerHotkey: 'm', executorClass: 'c', kind: 'synthetic' } as const;
    expect(traitsOf({ ...base, status: 'horde_failed' })).toBe(Trait.synthetic);
    expect(traitsOf({ ...base, status: 'completed', correct: false, accepted: false })).toBe(
      Trait.synthetic | Trait.completed | Trait.incorrect | Trait.declined,
    );
    expect(traitsOf({ ...base, kind: 'organic', status: 'failed', correct: true, inTime: true, accepted: true })).toBe(
      Trait.organic | Trait.failed | Trait.correct | Trait.inTime | Trait.accepted,
    );
  });
});
