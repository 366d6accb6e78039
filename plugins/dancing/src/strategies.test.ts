import { describe, expect, it } from 'vitest';
import { noDancing, randomSplit, rotateMain } from './strategies.js';

const hotkeys = ['5HotA', '5HotB', '5HotC'];
const manifest = { 'always_on.test': 7, 'always_on.gpu-24gb': 2 };
const ctx = (cycle: number) => ({ cycle, hotkeys, manifest });

function totals(assignment: Record<string, Record<string, number>>): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const byClass of Object.values(assignment))
    for (const [executorClass, count] of Object.entries(byClass)) sum[executorClass] = (sum[executorClass] ?? 0) + count;
  return sum;
}

describe('none', () => {
  it('keeps the first hotkey main and declares the whole horde under it every cycle', () => {
    const strategy = noDancing();
    for (const cycle of [0, 1, 2]) {
      expect(strategy.mainHotkey(ctx(cycle))).toBe('5HotA');
      expect(strategy.assign(ctx(cycle))).toEqual({ '5HotA': manifest, '5HotB': {}, '5HotC': {} });
    }
  });
});

describe('rotate-main', () => {
  it('moves the main hotkey one step per cycle in config order and the horde with it', () => {
    const strategy = rotateMain();
    expect([0, 1, 2, 3, 4].map((cycle) => strategy.mainHotkey(ctx(cycle)))).toEqual(['5HotA', '5HotB', '5HotC', '5HotA', '5HotB']);
    expect(strategy.assign(ctx(4))).toEqual({ '5HotA': {}, '5HotB': manifest, '5HotC': {} });
  });

  it('with one hotkey always names that hotkey', () => {
    expect(rotateMain().mainHotkey({ cycle: 9, hotkeys: ['5Only'], manifest })).toBe('5Only');
  });
});

describe('random-split', () => {
  it('deals every executor to exactly one hotkey', () => {
    for (const cycle of [0, 1, 2, 3]) expect(totals(randomSplit({ seed: 's' }).assign(ctx(cycle)))).toEqual(manifest);
  });

  it('is reproducible for the same seed and cycle and differs across cycles and seeds', () => {
    const a = randomSplit({ seed: 'op-1' });
    const b = randomSplit({ seed: 'op-1' });
    expect(a.assign(ctx(5))).toEqual(b.assign(ctx(5)));
    const splits = new Set([0, 1, 2, 3, 4, 5].map((cycle) => JSON.stringify(a.assign(ctx(cycle)))));
    expect(splits.size).toBeGreaterThan(1);
    expect(JSON.stringify(randomSplit({ seed: 'op-2' }).assign(ctx(5)))).not.toBe(JSON.stringify(a.assign(ctx(5))));
  });

  it('names as main the hotkey holding the most executors', () => {
    const strategy = randomSplit({ seed: 'main' });
    for (const cycle of [0, 1, 2, 3]) {
      const assignment = strategy.assign(ctx(cycle));
      const size = (hotkey: string) => Object.values(assignment[hotkey] ?? {}).reduce((s, n) => s + n, 0);
      const main = strategy.mainHotkey(ctx(cycle));
      for (const hotkey of hotkeys) expect(size(main)).toBeGreaterThanOrEqual(size(hotkey));
    }
  });
});

it('every strategy refuses an empty hotkey list', () => {
  for (const strategy of [noDancing(), rotateMain(), randomSplit()])
    expect(() => strategy.mainHotkey({ cycle: 0, hotkeys: [], manifest })).toThrow(/at least one hotkey/);
});
