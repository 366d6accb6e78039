import { describe, expect, it } from 'vitest';
import type { Metagraph, Neuron } from '../contracts/index.js';
import { batchSlotBlock, cycleOf } from './cycles.js';

function validator(hotkey: string, stake: number): Neuron {
  return {
    uid: 0,
    hotkey,
    coldkey: `c-${hotkey}`,
    stake: { alpha: stake, tao: 0, total: stake },
    validatorPermit: true,
    active: true,
    axon: null,
    incentive: 0,
    lastUpdate: 0,
  };
}

describe('cycles', () => {
  it('maps blocks to cycles of the configured length', () => {
    expect(cycleOf(0, 722)).toEqual({ index: 0, startBlock: 0, endBlock: 722 });
    expect(cycleOf(1443, 722)).toEqual({ index: 1, startBlock: 722, endBlock: 1444 });
    expect(cycleOf(1444, 722).index).toBe(2);
  });

  it('gives every validator its own slot after the offset, the same on every validator', () => {
    const metagraph: Metagraph = { netuid: 1, block: 0, neurons: ['v1', 'v2', 'v3', 'v4'].map((h, i) => validator(h, 1000 * (i + 1))) };
    const cycle = cycleOf(800, 722);
    const slots = ['v1', 'v2', 'v3', 'v4'].map((h) => batchSlotBlock(cycle, metagraph, h, 24));
    // (722 - 24) / 4 = 174.5 blocks apart, starting at 722 + 24.
    expect([...slots].sort((a, b) => a - b)).toEqual([746, 920, 1095, 1269]);
    expect(batchSlotBlock(cycle, metagraph, 'v3', 24)).toBe(slots[2]);
    // Another cycle shuffles the order differently for at least one of a few cycles.
    const orders = [0, 1, 2, 3, 4].map((index) =>
      ['v1', 'v2', 'v3', 'v4'].map((h) => batchSlotBlock(cycleOf(index * 722, 722), metagraph, h, 24) - index * 722).join(),
    );
    expect(new Set(orders).size).toBeGreaterThan(1);
  });

  it('puts a validator without a permit in the first slot', () => {
    const metagraph: Metagraph = { netuid: 1, block: 0, neurons: [] };
    expect(batchSlotBlock(cycleOf(50, 40), metagraph, 'devnet-validator', 4)).toBe(44);
  });
});
