import { describe, expect, it } from 'vitest';
import { computeConsensus } from './consensus.js';

const neurons = [
  { uid: 0, stake: 60, validatorPermit: true },
  { uid: 1, stake: 40, validatorPermit: true },
  { uid: 2, stake: 0, validatorPermit: false },
  { uid: 3, stake: 0, validatorPermit: false },
];

describe('LocalChain stake-weighted consensus', () => {
  it('clips weight above the stake-weighted median and pays incentive and dividends', () => {
    const weights = new Map([
      [
        0,
        new Map([
          [2, 3],
          [3, 1],
        ]),
      ], // 0.75 / 0.25
      [
        1,
        new Map([
          [2, 1],
          [3, 1],
        ]),
      ], // 0.5 / 0.5
    ]);
    const r = computeConsensus({ neurons, weights, emission: 100 });
    // C_2 = 0.75 (uid 0 alone holds 60% ≥ half), C_3 = 0.25 (only 0.25 has ≥ half the stake behind it)
    expect(r.consensus.get(2)).toBeCloseTo(0.75, 12);
    expect(r.consensus.get(3)).toBeCloseTo(0.25, 12);
    // R_2 = .6×.75 + .4×.5 = .65, R_3 = .6×.25 + .4×.25 = .25
    expect(r.incentive.get(2)).toBeCloseTo(0.65 / 0.9, 12);
    expect(r.incentive.get(3)).toBeCloseTo(0.25 / 0.9, 12);
    expect(r.incentive.get(0)).toBe(0);
    // trust: uid 0 kept 1.0, uid 1 kept .75 → .6 vs .3
    expect(r.dividends.get(0)).toBeCloseTo(2 / 3, 12);
    expect(r.dividends.get(1)).toBeCloseTo(1 / 3, 12);
    expect(r.emission.get(2)).toBeCloseTo(50 * (0.65 / 0.9), 9);
    expect(r.emission.get(0)).toBeCloseTo(50 * (2 / 3), 9);
    const total = [...r.emission.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(100, 9);
  });

  it('ignores weights of neurons without a validator permit or stake, and unknown uids', () => {
    const weights = new Map([
      [
        0,
        new Map([
          [2, 1],
          [99, 5],
        ]),
      ],
      [3, new Map([[3, 1]])], // a miner voting for itself has no permit
    ]);
    const r = computeConsensus({ neurons, weights, emission: 10 });
    expect(r.incentive.get(2)).toBeCloseTo(1, 12);
    expect(r.incentive.get(3)).toBe(0);
    expect(r.dividends.get(0)).toBeCloseTo(1, 12);
  });

  it('emits nothing when nobody has set weights', () => {
    const r = computeConsensus({ neurons, weights: new Map(), emission: 10 });
    expect([...r.emission.values()].every((e) => e === 0)).toBe(true);
  });
});
