import { HORDE_CLASS_WEIGHTS, splitColdkeyPoints, type CycleFacts, type ScoreTable, type ScoringRule } from '@horde/core';

export const ALLOWANCE_SPLIT = 'allowance-split';

export interface SplitOptions {
  /** ComputeHorde's current `DYNAMIC_DANCING_BONUS`. */
  readonly dancingBonus?: number;
  /** `MAIN_HOTKEY_SHARE`. */
  readonly mainHotkeyShare?: number;
  /** Weight per executor class; unlisted classes get 0. */
  readonly classWeights?: Readonly<Record<string, number>>;
}

/** ComputeHorde's code default (`DYNAMIC_EXECUTOR_CLASS_WEIGHTS`) plus the GPU classes it leaves at 0 (`HORDE_CLASS_WEIGHTS`). */
export const DEFAULT_CLASS_WEIGHTS: Readonly<Record<string, number>> = HORDE_CLASS_WEIGHTS;

/**
 * The last step of ComputeHorde's current engine, per executor class: pool each coldkey's points
 * and share them out by main hotkey with the dancing bonus (`splitColdkeyPoints` from @horde/core),
 * then turn them into `points / sum(class) × weight(class)`. Hotkeys outside the metagraph keep their points.
 */
export function splitAndWeigh(facts: CycleFacts, table: ScoreTable, options: Required<SplitOptions>): ScoreTable {
  const coldkeyOf = new Map(facts.neurons.map((neuron) => [neuron.hotkey, neuron.coldkey]));
  const hotkeysOf = new Map<string, string[]>();
  for (const neuron of facts.neurons) hotkeysOf.set(neuron.coldkey, [...(hotkeysOf.get(neuron.coldkey) ?? []), neuron.hotkey]);

  const classes = new Set(Object.values(table).flatMap((byClass) => Object.keys(byClass)));
  const result: Record<string, Record<string, number>> = {};
  for (const hotkey of Object.keys(table)) result[hotkey] = {};
  for (const executorClass of classes) {
    const danced = new Map<string, number>();
    const coldkeyTotals = new Map<string, number>();
    for (const [hotkey, byClass] of Object.entries(table)) {
      const points = byClass[executorClass];
      if (points === undefined) continue;
      const coldkey = coldkeyOf.get(hotkey);
      if (coldkey === undefined) danced.set(hotkey, points);
      else coldkeyTotals.set(coldkey, (coldkeyTotals.get(coldkey) ?? 0) + points);
    }
    for (const [coldkey, total] of coldkeyTotals) {
      const shares = splitColdkeyPoints(total, hotkeysOf.get(coldkey) ?? [], facts.mainHotkeys[coldkey], {
        bonus: options.dancingBonus,
        mainHotkeyShare: options.mainHotkeyShare,
      });
      for (const [hotkey, points] of shares) danced.set(hotkey, points);
    }
    const sum = [...danced.values()].reduce((acc, points) => acc + points, 0);
    const weight = options.classWeights[executorClass] ?? 0;
    for (const [hotkey, points] of danced) (result[hotkey] ??= {})[executorClass] = sum > 0 ? (points / sum) * weight : 0;
  }
  return result;
}

/** Rule `allowance-split`: main-hotkey split with a 10 % dancing bonus, then class weights. */
export function allowanceSplitRule(options: SplitOptions = {}): ScoringRule {
  const resolved: Required<SplitOptions> = {
    dancingBonus: options.dancingBonus ?? 0.1,
    mainHotkeyShare: options.mainHotkeyShare ?? 0.8,
    classWeights: options.classWeights ?? DEFAULT_CLASS_WEIGHTS,
  };
  return { name: ALLOWANCE_SPLIT, apply: (facts, table) => splitAndWeigh(facts, table, resolved) };
}
