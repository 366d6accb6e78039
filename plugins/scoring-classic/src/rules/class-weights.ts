import type { ScoreTable, ScoringRule } from '@horde/core';
import { CLASSIC_DEFAULTS } from '../defaults.js';
import { columnOf, executorClassesOf, type MutableScoreTable } from '../table.js';

export const CLASS_WEIGHTS = 'class-weights';

/**
 * ComputeHorde's code default (`DYNAMIC_EXECUTOR_CLASS_WEIGHTS`) plus the GPU classes it leaves at
 * 0 (`HORDE_CLASS_WEIGHTS`). Production has moved between classes over time; set `classWeights`
 * in the config to what your subnet pays for.
 */
export const DEFAULT_CLASS_WEIGHTS: Readonly<Record<string, number>> = CLASSIC_DEFAULTS.classWeights;

/**
 * Turns points into each class's share of the weight: within a class every hotkey gets
 * `points / sum(points of the class) × weight(class)`, so a class's weight is what its miners
 * split, however many jobs it ran. A class with no weight configured gets 0, so a new class earns
 * nothing until the operator decides what it is worth. A class whose points sum to 0 stays 0.
 */
export function weighClasses(table: ScoreTable, classWeights: Readonly<Record<string, number>>): ScoreTable {
  const weighted: MutableScoreTable = {};
  for (const hotkey of Object.keys(table)) weighted[hotkey] = {};
  for (const executorClass of executorClassesOf(table)) {
    const column = columnOf(table, executorClass);
    const weight = classWeights[executorClass] ?? 0;
    let total = 0;
    for (const points of column.values()) total += points;
    for (const [hotkey, points] of column) {
      (weighted[hotkey] ??= {})[executorClass] = total > 0 ? (points / total) * weight : 0;
    }
  }
  return weighted;
}

/** Rule `class-weights`: per class `points / sum(class) × weight(class)`; unlisted classes get 0. */
export function classWeightsRule(options: { readonly classWeights?: Readonly<Record<string, number>> } = {}): ScoringRule {
  const classWeights = options.classWeights ?? CLASSIC_DEFAULTS.classWeights;
  return {
    name: CLASS_WEIGHTS,
    apply: (_facts, table) => weighClasses(table, classWeights),
  };
}
