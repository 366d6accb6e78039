import type { JobOutcome } from '@horde/core';

/**
 * The cycle's outcomes as columns, read by every counting rule. A cycle holds up to a million
 * outcomes of several shapes; walking those objects once per rule cost most of a scoring run
 * (property loads on objects of five shapes, a string-keyed table lookup per job). The columns are
 * built in one walk, once per `facts.jobs`, and each rule then makes one pass over typed arrays.
 */

/** One bit per fact a rule reads about an outcome. An optional boolean takes two: true, false. */
export const Trait = {
  synthetic: 1 << 0,
  organic: 1 << 1,
  completed: 1 << 2,
  failed: 1 << 3,
  rejected: 1 << 4,
  correct: 1 << 5,
  incorrect: 1 << 6,
  inTime: 1 << 7,
  accepted: 1 << 8,
  declined: 1 << 9,
} as const;

/**
 * The traits of one outcome, the only place that reads an outcome's kind, status and verdicts.
 * `horde_failed` (the validator's own failure) sets no status bit: no rule pays or counts it.
 */
export function traitsOf(job: JobOutcome): number {
  // Each field read once: on outcomes of many shapes a property load is most of a walk's cost.
  const { kind, status, correct, inTime, accepted } = job;
  let traits = 0;
  if (kind === 'synthetic') traits |= Trait.synthetic;
  else if (kind === 'organic') traits |= Trait.organic;
  if (status === 'completed') traits |= Trait.completed;
  else if (status === 'failed') traits |= Trait.failed;
  else if (status === 'rejected') traits |= Trait.rejected;
  if (correct === true) traits |= Trait.correct;
  else if (correct === false) traits |= Trait.incorrect;
  if (inTime === true) traits |= Trait.inTime;
  if (accepted === true) traits |= Trait.accepted;
  else if (accepted === false) traits |= Trait.declined;
  return traits;
}

/** Whether `traits` has every bit of `wanted`. */
export function hasTraits(traits: number, wanted: number): boolean {
  return (traits & wanted) === wanted;
}

/** A cell of the score table: one miner hotkey's points for one executor class. */
export interface Cell {
  readonly hotkey: string;
  readonly executorClass: string;
}

export interface OutcomeColumns {
  readonly jobs: readonly JobOutcome[];
  /** Every (hotkey, class) pair of the outcomes, in first-seen order. */
  readonly cells: readonly Cell[];
  /** `cellOf[i]`: the index in `cells` of `jobs[i]`'s pair. */
  readonly cellOf: Int32Array;
  /** `traits[i]`: `traitsOf(jobs[i])`. */
  readonly traits: Uint16Array;
}

/** Columns by the outcomes array they were built from: facts are read-only, so one build serves every rule. */
const columnsByJobs = new WeakMap<readonly JobOutcome[], OutcomeColumns>();

export function outcomeColumns(jobs: readonly JobOutcome[]): OutcomeColumns {
  let columns = columnsByJobs.get(jobs);
  if (!columns) {
    columns = buildColumns(jobs);
    columnsByJobs.set(jobs, columns);
  }
  return columns;
}

function buildColumns(jobs: readonly JobOutcome[]): OutcomeColumns {
  const cells: Cell[] = [];
  const cellIndex = new Map<string, Map<string, number>>();
  const cellOf = new Int32Array(jobs.length);
  const traits = new Uint16Array(jobs.length);
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i] as JobOutcome;
    let byClass = cellIndex.get(job.minerHotkey);
    if (!byClass) {
      byClass = new Map();
      cellIndex.set(job.minerHotkey, byClass);
    }
    let cell = byClass.get(job.executorClass);
    if (cell === undefined) {
      cell = cells.push({ hotkey: job.minerHotkey, executorClass: job.executorClass }) - 1;
      byClass.set(job.executorClass, cell);
    }
    cellOf[i] = cell;
    traits[i] = traitsOf(job);
  }
  return { jobs, cells, cellOf, traits };
}
