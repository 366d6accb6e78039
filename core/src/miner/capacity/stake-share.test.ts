import { describe, expect, it } from 'vitest';
import { CAPACITY_POLICY, type CapacityClaimant } from '../../contracts/index.js';
import { definePlugin } from '../../plugin/index.js';
import { registerPluginForTest } from '../../testkit/index.js';
import { stakeProportionalPolicy, stakeShares } from './stake-share.js';

const policy = stakeProportionalPolicy();
const claimant = (validatorHotkey: string, stake: number, held: number): CapacityClaimant => ({ validatorHotkey, stake, held });
const ask = (validatorHotkey: string, capacity: number, claimants: CapacityClaimant[]) => {
  const used = claimants.reduce((sum, c) => sum + c.held, 0);
  return policy.decide({ executorClass: 'always_on.test', validatorHotkey, capacity, free: capacity - used, claimants }).admit;
};

describe('stake-proportional capacity policy', () => {
  it('shares executors by stake, equally when nobody has stake', () => {
    expect(stakeShares(4, [claimant('a', 3, 0), claimant('b', 1, 0)])).toEqual(
      new Map([
        ['a', 3],
        ['b', 1],
      ]),
    );
    expect(stakeShares(2, [claimant('a', 0, 0), claimant('b', 0, 0)])).toEqual(
      new Map([
        ['a', 1],
        ['b', 1],
      ]),
    );
  });

  it('keeps the low-stake share free while both compete, and lends everything when the other is idle', () => {
    // a (3) holds its three; b (1) holds none and wants one: the last free executor is b's.
    expect(ask('a', 4, [claimant('a', 3, 3), claimant('b', 1, 0)])).toBe(false);
    expect(ask('b', 4, [claimant('a', 3, 3), claimant('b', 1, 0)])).toBe(true);
    // b above its share while a is below: a gets the free ones, b does not.
    expect(ask('b', 4, [claimant('a', 3, 1), claimant('b', 1, 1)])).toBe(false);
    expect(ask('a', 4, [claimant('a', 3, 1), claimant('b', 1, 1)])).toBe(true);
    // b alone: it takes every executor.
    expect(ask('b', 4, [claimant('b', 1, 3)])).toBe(true);
  });

  it('time-shares fewer executors than claimants: whoever holds nothing gets the next free one', () => {
    expect(ask('a', 1, [claimant('a', 1, 0), claimant('b', 1, 0)])).toBe(true);
    expect(ask('b', 1, [claimant('a', 1, 0), claimant('b', 1, 0)])).toBe(true);
    // a already holds one of two while b and c wait with nothing: a must wait.
    expect(ask('a', 2, [claimant('a', 1, 1), claimant('b', 1, 0), claimant('c', 1, 0)])).toBe(false);
  });

  it('is replaceable: a plugin may provide CAPACITY_POLICY (startMiner hands it to the miner instead of the default)', async () => {
    const firstComeFirstServed = { name: 'first-come', decide: () => ({ admit: true as const }) };
    const plugin = definePlugin({
      name: 'horde-plugin-first-come',
      version: '1.0.0',
      apiRange: '^1.0.0',
      provides: [CAPACITY_POLICY],
      register(ctx) {
        ctx.provide(CAPACITY_POLICY, { useValue: firstComeFirstServed });
      },
    });
    const loaded = await registerPluginForTest(plugin);
    expect(loaded.single(CAPACITY_POLICY)?.name).toBe('first-come');
  });
});
