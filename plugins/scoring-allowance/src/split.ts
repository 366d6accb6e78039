import type { CycleFacts, ScoreTable, ScoringRule } from '@horde/core';

export const ALLOWANCE_SPLIT = 'allowance-split';

export interface SplitOptions {
  /** ComputeHorde's current `DYNAMIC_DANCING_BONUS`. */
  readonly dancingBonus?: number;
  /** `MAIN_HOTKEY_SHARE`. */
  readonly mainHotkeyShare?: number;
  /** Weight per executor class; unlisted classes get 0. */
  readonly classWeights?: Readonly<Record<string, number>>;
}

/** ComputeHorde's code default (`DYNAMIC_EXECUTOR_CLASS_WEIGHTS`). */
export const DEFAULT_CLASS_WEIGHTS: Readonly<Record<string, number>> = {
  'spin_up-4min.gpu-24gb': 98,
  'always_on.llm.a6000': 1,
  'always_on.test': 0,
  'always_on.cpu.8c.16gb': 1,
};

/**
 * One coldkey's points shared among its hotkeys: ×(1 + bonus) when the main hotkey changed since
 * the previous cycle (both known); the main hotkey gets `mainHotkeyShare` (all of it when alone),
 * the others split the rest; an unknown or unregistered main hotkey means an equal split.
 */
function shareOut(total: number, hotkeys: readonly string[], main: { current: string | null; previous: string | null } | undefined, options: Required<SplitOptions>): Map<string, number> {
  const current = main?.current ?? null;
  const moved = current !== null && main?.previous != null && current !== main.previous;
  const points = moved ? total * (1 + options.dancingBonus) : total;
  const shares = new Map<string, number>();
  if (current !== null && hotkeys.includes(current)) {
    const others = hotkeys.filter((hotkey) => hotkey !== current);
    shares.set(current, others.length === 0 ? points : points * options.mainHotkeyShare);
    for (const hotkey of others) shares.set(hotkey, (points * (1 - options.mainHotkeyShare)) / others.length);
  } else {
    for (const hotkey of hotkeys) shares.set(hotkey, points / hotkeys.length);
  }
  return shares;
}

/**
 * The last step of ComputeHorde's current engine, per executor class: pool each coldkey's points
 * and share them out by main hotkey (with the dancing bonus), then turn them into
 * `points / sum(class) × weight(class)`. Hotkeys outside the metagraph keep their points.
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
      for (const [hotkey, points] of shareOut(total, hotkeysOf.get(coldkey) ?? [], facts.mainHotkeys[coldkey], options)) danced.set(hotkey, points);
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
