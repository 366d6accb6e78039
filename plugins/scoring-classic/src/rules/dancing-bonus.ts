import { splitColdkeyPoints, type CycleFacts, type ScoreTable, type ScoringRule } from '@horde/core';
import { columnOf, copyTable, executorClassesOf, type MutableScoreTable } from '../table.js';
import { CLASSIC_DEFAULTS } from '../defaults.js';

/** The share-out itself lives in @horde/core, shared with the other scoring plugins. */
export { splitColdkeyPoints, type MainHotkeys } from '@horde/core';

export const DANCING_BONUS = 'dancing-bonus';

export interface DancingOptions {
  /**
   * Extra share for a coldkey whose main hotkey changed since the previous cycle. horde's default
   * is 0.3, the 30 % ComputeHorde paid when dancing was introduced; its current engine pays 0.1.
   */
  readonly bonus?: number;
  /** Share of a coldkey's points its main hotkey gets when the coldkey has several hotkeys. */
  readonly mainHotkeyShare?: number;
}

/**
 * Applies dancing per executor class, as ComputeHorde's engine does before class weights: the
 * points of all hotkeys of a coldkey are pooled and shared out again by `splitColdkeyPoints`.
 * Hotkeys missing from the metagraph (no known coldkey) keep their points unchanged.
 */
export function applyDancing(facts: CycleFacts, table: ScoreTable, options: Required<DancingOptions>): ScoreTable {
  const coldkeyOf = new Map<string, string>();
  const hotkeysOf = new Map<string, string[]>();
  for (const neuron of facts.neurons) {
    coldkeyOf.set(neuron.hotkey, neuron.coldkey);
    const hotkeys = hotkeysOf.get(neuron.coldkey) ?? [];
    hotkeys.push(neuron.hotkey);
    hotkeysOf.set(neuron.coldkey, hotkeys);
  }

  const danced: MutableScoreTable = copyTable(table);
  for (const executorClass of executorClassesOf(table)) {
    const coldkeyTotals = new Map<string, number>();
    for (const [hotkey, points] of columnOf(table, executorClass)) {
      const coldkey = coldkeyOf.get(hotkey);
      if (coldkey === undefined) continue;
      coldkeyTotals.set(coldkey, (coldkeyTotals.get(coldkey) ?? 0) + points);
    }
    for (const [coldkey, total] of coldkeyTotals) {
      const shares = splitColdkeyPoints(total, hotkeysOf.get(coldkey) ?? [], facts.mainHotkeys[coldkey], options);
      for (const [hotkey, points] of shares) (danced[hotkey] ??= {})[executorClass] = points;
    }
  }
  return danced;
}

/** Rule `dancing-bonus`: main-hotkey split per coldkey, +30 % (by default) when the main hotkey moved. */
export function dancingBonusRule(options: DancingOptions = {}): ScoringRule {
  const resolved: Required<DancingOptions> = {
    bonus: options.bonus ?? CLASSIC_DEFAULTS.dancingBonus,
    mainHotkeyShare: options.mainHotkeyShare ?? CLASSIC_DEFAULTS.mainHotkeyShare,
  };
  return {
    name: DANCING_BONUS,
    apply: (facts, table) => applyDancing(facts, table, resolved),
  };
}
