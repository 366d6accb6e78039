import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DANCING_STRATEGY, PluginError, type DancingContext } from '@horde/core';
import { registerPluginForTest } from '@horde/core/testkit';
import plugin, { STRATEGY_NAME } from './index.js';

/** Registers the plugin the way a horde process does: apiRange and config are checked first. */
const load = (config: Record<string, unknown> = {}) => registerPluginForTest(plugin, { config });

async function loadStrategy(config: Record<string, unknown> = {}) {
  const strategy = (await load(config)).single(DANCING_STRATEGY);
  if (!strategy) throw new Error('the plugin provided no dancing strategy');
  return strategy;
}

const hotkeys = ['hk-a', 'hk-b', 'hk-c'];
const manifest = { 'always_on.test': 7, 'always_on.gpu-24gb': 1 };
const at = (cycle: number): DancingContext => ({ cycle, hotkeys, manifest });

describe('{{packageName}}', () => {
  it('declares the version in package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(plugin.version).toBe(pkg.version);
  });

  it('names one of the hotkeys main, a different one every cycle (which earns the dancing bonus)', async () => {
    const strategy = await loadStrategy();
    expect(strategy.name).toBe(STRATEGY_NAME);
    const mains = [0, 1, 2, 3].map((cycle) => strategy.mainHotkey(at(cycle)));
    expect(mains).toEqual(['hk-a', 'hk-b', 'hk-c', 'hk-a']);
  });

  it('keeps a hotkey main for cyclesPerMain cycles', async () => {
    const strategy = await loadStrategy({ cyclesPerMain: 2 });
    expect([0, 1, 2, 3].map((cycle) => strategy.mainHotkey(at(cycle)))).toEqual(['hk-a', 'hk-a', 'hk-b', 'hk-b']);
  });

  it('shares out exactly the whole horde, the main hotkey holding the most', async () => {
    const strategy = await loadStrategy();
    for (const cycle of [0, 1, 2, 5]) {
      const assignment = strategy.assign(at(cycle));
      expect(Object.keys(assignment).sort()).toEqual([...hotkeys].sort());
      for (const [executorClass, count] of Object.entries(manifest)) {
        const total = Object.values(assignment).reduce((sum, byClass) => sum + (byClass[executorClass] ?? 0), 0);
        expect(total).toBe(count);
      }
      const main = strategy.mainHotkey(at(cycle));
      expect(assignment[main]).toEqual({ 'always_on.test': 3, 'always_on.gpu-24gb': 1 });
      // Pure: the same context gives the same answer (every miner process and restart agrees).
      expect(strategy.assign(at(cycle))).toEqual(assignment);
    }
  });

  it('refuses a context without hotkeys, and a bad config value', async () => {
    const strategy = await loadStrategy();
    expect(() => strategy.mainHotkey({ cycle: 1, hotkeys: [], manifest })).toThrow(RangeError);
    await expect(load({ cyclesPerMain: 0 })).rejects.toThrow(PluginError);
  });
});
