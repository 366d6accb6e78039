import type { CycleFacts, ScoreTable, ScoringRule } from '@horde/core';
import { columnOf, copyTable, executorClassesOf, type MutableScoreTable } from '../table.js';

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

export interface MainHotkeys {
  readonly current: string | null;
  readonly previous: string | null;
}

/**
 * Shares one coldkey's points for one class among its registered hotkeys (ComputeHorde's
 * `_process_coldkey_main_hotkey`):
 * - the total grows by `bonus` when the main hotkey is known for this cycle and the previous one
 *   and they differ (the coldkey "danced");
 * - a main hotkey registered under the coldkey gets everything if it is the only hotkey, else
 *   `mainHotkeyShare`, and the other hotkeys split the rest equally;
 * - an unknown or unregistered main hotkey means an equal split.
 */
export function splitColdkeyPoints(
  total: number,
  hotkeys: readonly string[],
  main: MainHotkeys | undefined,
  options: Required<DancingOptions>,
): Map<string, number> {
  const current = main?.current ?? null;
  const previous = main?.previous ?? null;
  const danced = current !== null && previous !== null && current !== previous;
  const points = danced ? total * (1 + options.bonus) : total;

  const shares = new Map<string, number>();
  if (current !== null && hotkeys.includes(current)) {
    if (hotkeys.length === 1) {
      shares.set(current, points);
      return shares;
    }
    const others = hotkeys.filter((hotkey) => hotkey !== current);
    shares.set(current, points * options.mainHotkeyShare);
    for (const hotkey of others) shares.set(hotkey, (points * (1 - options.mainHotkeyShare)) / others.length);
    return shares;
  }
  for (const hotkey of hotkeys) shares.set(hotkey, points / hotkeys.length);
  return shares;
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
    bonus: options.bonus ?? 0.3,
    mainHotkeyShare: options.mainHotkeyShare ?? 0.8,
  };
  return {
    name: DANCING_BONUS,
    apply: (facts, table) => applyDancing(facts, table, resolved),
  };
}
