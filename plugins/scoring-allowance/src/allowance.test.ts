import { describe, expect, it } from 'vitest';
import type { JobOutcome } from '@horde/core';
import { job, neuron, runScoringRuleContract, scoringFacts } from '@horde/core/testkit';
import { allowancePaidJobsRule, stakeShare } from './allowance.js';
import { allowanceSplitRule } from './split.js';

const X = 'always_on.cpu.8c.16gb';
const neurons = [
  neuron({ uid: 0, hotkey: 'V', coldkey: 'cv', stake: 300, validatorPermit: true }),
  neuron({ uid: 1, hotkey: 'W', coldkey: 'cw', stake: 700, validatorPermit: true }),
  neuron({ uid: 2, hotkey: 'M1', coldkey: 'c1' }),
  neuron({ uid: 3, hotkey: 'M1b', coldkey: 'c1' }),
  neuron({ uid: 4, hotkey: 'M2', coldkey: 'c2' }),
];
const organic = (minerHotkey: string, executorSeconds: number, more: Partial<JobOutcome> = {}) =>
  job({ minerHotkey, executorClass: X, kind: 'organic', correct: undefined, inTime: undefined, executorSeconds, ...more });

// Blocks 100..109 (10 blocks). V holds 300 of 1000 validator stake: 0.3 × 12 s = 3.6 s per executor per block.
// M1 declares 2 executors: 7.2 s per block, 72 s in the cycle. M2 declares 1: 3.6 s per block.
const facts = scoringFacts({
  cycle: { index: 1, startBlock: 100, endBlock: 110 },
  validatorHotkey: 'V',
  neurons,
  manifests: { M1: { [X]: 2 }, M2: { [X]: 1 } },
  jobs: [
    organic('M1', 20), // oldest first: ceil(20 / 7.2) = 3 blocks, 100–102 → 20 points
    organic('M1', 30, { paidWithBlocks: [103, 104, 105, 106, 107] }), // 36 s ≥ 30 → 30 points
    organic('M1', 10, { paidWithBlocks: [102, 108] }), // 102 already spent → 0
    organic('M1', 40), // only 108 and 109 left, 14.4 s < 40 → 0 and nothing booked
    organic('M1', 10), // 108 and 109 → 10 points
    organic('M1', 5, { paidWithBlocks: [99] }), // before the cycle → 0
    organic('M1', 5, { status: 'failed' }), // not completed → no row change
    organic('M1', 5, { correct: false }), // cheated → no row change
    job({ minerHotkey: 'M1', executorClass: X }), // synthetic: not paid in this model
    organic('M2', 3), // 1 block → 3 points
  ],
});

describe('allowance-paid-jobs', () => {
  it('takes this validator’s share of validator stake', () => {
    expect(stakeShare(facts)).toBeCloseTo(0.3, 12);
  });

  it('pays organic jobs from per-block allowance, 1 point per executor-second, dropping what it cannot cover', () => {
    expect(allowancePaidJobsRule().apply(facts, {})).toEqual({ M1: { [X]: 60 }, M2: { [X]: 3 } });
  });

  it('mints more with a multiplier, so a job that did not fit now does', () => {
    // ×10: M1 mints 72 s per block. Job 1 takes block 100 only, so job 3's blocks (102, 108) are
    // free, job 4 (40 s) takes 101 and job 5 takes 109: 20 + 30 + 10 + 40 + 10 = 110.
    expect(allowancePaidJobsRule({ multiplier: 10 }).apply(facts, {})).toEqual({ M1: { [X]: 110 }, M2: { [X]: 3 } });
  });

  runScoringRuleContract(allowancePaidJobsRule(), [{ facts, table: { M2: { [X]: 1 } } }]);
});

describe('allowance-split', () => {
  it('shares by main hotkey with a 10 % bonus for a moved main hotkey, then applies class weights', () => {
    const danced = scoringFacts({ ...facts, mainHotkeys: { c1: { current: 'M1b', previous: 'M1', verifiedDance: true } } });
    const result = allowanceSplitRule({ classWeights: { [X]: 1 } }).apply(danced, { M1: { [X]: 60 }, M2: { [X]: 3 }, stranger: { other: 4 } });
    // c1: 60 × 1.1 = 66 → M1b 52.8, M1 13.2; M2 3; sum 69.
    expect(result.M1b![X]).toBeCloseTo(52.8 / 69, 12);
    expect(result.M1![X]).toBeCloseTo(13.2 / 69, 12);
    expect(result.M2![X]).toBeCloseTo(3 / 69, 12);
    expect(result.stranger).toEqual({ other: 0 }); // unlisted class
  });

  runScoringRuleContract(allowanceSplitRule(), [{ facts, table: { M1: { [X]: 60 } } }]);
});
