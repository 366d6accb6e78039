import { describe, expect, it } from 'vitest';
import { InvalidWeightsError } from './errors.js';
import { convertWeightsForEmit, normalizeMaxWeight, prepareWeightsForChain, processWeights, roundHalfEven } from './weight-conversion.js';

describe('convertWeightsForEmit (SDK convert_weights_and_uids_for_emit)', () => {
  it('max-upscales to 65535 and drops zeros', () => {
    // max 0.5 → [1, 0.5, 0, 0.25] × 65535 = [65535, 32767.5 → 32768 (half to even), 0 (dropped), 16383.75 → 16384]
    expect(convertWeightsForEmit([0, 1, 2, 3], [0.5, 0.25, 0, 0.125])).toEqual({ uids: [0, 1, 3], values: [65535, 32768, 16384] });
  });

  it('sends nothing for all-zero weights', () => {
    expect(convertWeightsForEmit([0, 1], [0, 0])).toEqual({ uids: [], values: [] });
  });

  it('drops weights that round to zero', () => {
    // 1/200000 × 65535 = 0.33 → 0
    expect(convertWeightsForEmit([4, 9], [200000, 1])).toEqual({ uids: [4], values: [65535] });
  });

  it('refuses negative weights and mismatched lengths', () => {
    expect(() => convertWeightsForEmit([0, 1], [1, -1])).toThrow(InvalidWeightsError);
    expect(() => convertWeightsForEmit([0, 1], [1])).toThrow(/same length/);
  });

  it('rounds halves to even like Python', () => {
    expect([0.5, 1.5, 2.5, 3.5, 2.4999, 2.5001].map(roundHalfEven)).toEqual([0, 2, 2, 4, 2, 3]);
  });
});

describe('normalizeMaxWeight (SDK normalize_max_weight)', () => {
  it('only normalises when the limit already holds', () => {
    expect(normalizeMaxWeight([3, 1], 1)).toEqual([0.75, 0.25]);
  });

  it('clips the largest entries at a common cutoff so none exceeds the limit', () => {
    // sorted [1,1,2,6] / 10 = [.1,.1,.2,.6]; cumsum [.1,.2,.4,1]; three ratios < 0.5 →
    // cutoff = (0.5 × 0.4 − 1e-7) / (1 − 0.5 × 1) × 10 = 3.999998; 6 is clipped to it.
    const y = normalizeMaxWeight([6, 2, 1, 1], 0.5);
    const total = 3.999998 + 2 + 1 + 1;
    expect(y[0]).toBeCloseTo(3.999998 / total, 12);
    expect(y[1]).toBeCloseTo(2 / total, 12);
    expect(y[2]).toBeCloseTo(1 / total, 12);
    expect(y[0]!).toBeLessThanOrEqual(0.5);
  });

  it('falls back to uniform when the limit cannot be met', () => {
    expect(normalizeMaxWeight([5, 1], 0.5)).toEqual([0.5, 0.5]);
    expect(normalizeMaxWeight([0, 0, 0, 0], 0.5)).toEqual([0.25, 0.25, 0.25, 0.25]);
  });
});

describe('processWeights (SDK process_weights)', () => {
  const base = { numNeurons: 4, maxWeightLimit: 1 };

  it('keeps the non-zero weights, normalised', () => {
    expect(processWeights([0, 1, 2, 3], [3, 1, 0, 0], { ...base, minAllowedWeights: 2 })).toEqual({ uids: [0, 1], weights: [0.75, 0.25] });
  });

  it('gives every uid an equal weight when there is nothing to set', () => {
    expect(processWeights([0, 1, 2, 3], [0, 0, 0, 0], { ...base, minAllowedWeights: 1 })).toEqual({
      uids: [0, 1, 2, 3],
      weights: [0.25, 0.25, 0.25, 0.25],
    });
  });

  it('spreads 1e-5 over every uid when too few weights are non-zero', () => {
    const { uids, weights } = processWeights([0, 1, 2, 3], [3, 1, 0, 0], { ...base, minAllowedWeights: 3 });
    const total = 3.00001 + 1.00001 + 2e-5;
    expect(uids).toEqual([0, 1, 2, 3]);
    expect(weights[0]).toBeCloseTo(3.00001 / total, 12);
    expect(weights[1]).toBeCloseTo(1.00001 / total, 12);
    expect(weights[2]).toBeCloseTo(1e-5 / total, 12);
  });

  it('excludes the lowest quantile but never below the minimum count', () => {
    // quantile 0.5 of [1,2,3,4] (linear) = 2.5 → keeps 3 and 4; max_exclude with min 2 is 0.5.
    const out = processWeights([0, 1, 2, 3], [1, 2, 3, 4], { ...base, minAllowedWeights: 2, excludeQuantile: 65535 / 2 });
    expect(out.uids).toEqual([2, 3]);
    expect(out.weights[0]).toBeCloseTo(3 / 7, 12);
  });
});

describe('prepareWeightsForChain', () => {
  it('produces the u16 vector set_weights carries', () => {
    const out = prepareWeightsForChain(
      [
        { uid: 0, weight: 0.2 },
        { uid: 2, weight: 0.8 },
        { uid: 1, weight: 0 },
      ],
      { numNeurons: 3, minAllowedWeights: 1, maxWeightLimit: 1 },
    );
    // 0.2 / 0.8 × 65535 = 16383.75 → 16384
    expect(out).toEqual({ uids: [0, 2], values: [16384, 65535] });
  });

  it('keeps the spread entries at 1 so the chain accepts the length', () => {
    // 2 non-zero weights, minimum 3: the SDK's 1e-5 entries round to 0; they are kept at 1.
    const out = prepareWeightsForChain(
      [
        { uid: 0, weight: 3 },
        { uid: 1, weight: 1 },
      ],
      { numNeurons: 4, minAllowedWeights: 3, maxWeightLimit: 1 },
    );
    // 1.00001 / 3.00001 × 65535 = 21845.1456 → 21845
    expect(out).toEqual({ uids: [0, 1, 2], values: [65535, 21845, 1] });
  });

  it('refuses uids off the subnet, duplicates and bad numbers', () => {
    const opts = { numNeurons: 2, minAllowedWeights: 1, maxWeightLimit: 1 };
    expect(() => prepareWeightsForChain([{ uid: 2, weight: 1 }], opts)).toThrow(/not on the subnet/);
    expect(() =>
      prepareWeightsForChain(
        [
          { uid: 1, weight: 1 },
          { uid: 1, weight: 2 },
        ],
        opts,
      ),
    ).toThrow(/twice/);
    expect(() => prepareWeightsForChain([{ uid: 0, weight: Number.NaN }], opts)).toThrow(InvalidWeightsError);
    expect(() => prepareWeightsForChain([], { ...opts, numNeurons: 0 })).toThrow(/no neurons/);
  });
});
