import { beforeAll, describe, expect, it } from 'vitest';
import type { CycleFacts, Hotkey, JobOutcome } from '@horde/core';
import {
  job,
  neuron,
  runScoringRuleContract,
  scoringFacts,
  signedFinishedReceipt,
  signedStartedReceipt,
  testHotkey,
} from '@horde/core/testkit';
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
    const result = allowanceSplitRule({ classWeights: { [X]: 1 } }).apply(danced, {
      M1: { [X]: 60 },
      M2: { [X]: 3 },
      stranger: { other: 4 },
    });
    // c1: 60 × 1.1 = 66 → M1b 52.8, M1 13.2; M2 3; sum 69.
    expect(result.M1b![X]).toBeCloseTo(52.8 / 69, 12);
    expect(result.M1![X]).toBeCloseTo(13.2 / 69, 12);
    expect(result.M2![X]).toBeCloseTo(3 / 69, 12);
    expect(result.stranger).toEqual({ other: 0 }); // unlisted class
  });

  runScoringRuleContract(allowanceSplitRule(), [{ facts, table: { M1: { [X]: 60 } } }]);
});

describe('allowance-paid-jobs with receipts transferred from other validators', () => {
  const T0 = Date.UTC(2025, 4, 1, 12, 0, 0);
  const window = { fromMs: T0, toMs: T0 + 600_000 };
  let self: Hotkey;
  let other: Hotkey;
  let noPermit: Hotkey;
  let miner: Hotkey;
  beforeAll(async () => {
    [self, other, noPermit, miner] = (await Promise.all(
      ['//AllowSelf', '//AllowOther', '//AllowNoPermit', '//AllowMiner'].map(testHotkey),
    )) as [Hotkey, Hotkey, Hotkey, Hotkey];
  });

  /** An organic (or synthetic) job `signer` ran on the miner, finished `atMs` with cost `score`. */
  function transferred(signer: Hotkey, atMs: number, score: string, more: { blocks?: number[]; organic?: boolean; jobUuid?: string } = {}) {
    const jobUuid = more.jobUuid ?? `job-${Math.random().toString(36).slice(2)}`;
    const fields = { jobUuid, minerHotkey: miner.ss58 };
    return {
      started: signedStartedReceipt(signer, {
        ...fields,
        executorClass: X,
        isOrganic: more.organic ?? true,
        ttl: 7,
        timestampMs: atMs - 60_000,
      }),
      finished: signedFinishedReceipt(signer, {
        ...fields,
        startedAtMs: atMs - 50_000,
        finishedAtMs: atMs,
        score,
        ...(more.blocks ? { blockNumbers: more.blocks } : {}),
      }),
    };
  }

  function factsWith(jobs: ReturnType<typeof transferred>[], ownJobs: JobOutcome[] = []) {
    return scoringFacts({
      cycle: { index: 1, startBlock: 100, endBlock: 110 },
      window,
      validatorHotkey: self.ss58,
      neurons: [
        neuron({ uid: 0, hotkey: self.ss58, coldkey: 'c-self', stake: 300, validatorPermit: true }),
        neuron({ uid: 1, hotkey: other.ss58, coldkey: 'c-other', stake: 700, validatorPermit: true }),
        neuron({ uid: 2, hotkey: noPermit.ss58, coldkey: 'c-np', stake: 5_000, validatorPermit: false }),
        neuron({ uid: 3, hotkey: miner.ss58, coldkey: 'c-miner' }),
      ],
      manifests: { [miner.ss58]: { [X]: 2 } },
      jobs: ownJobs,
      organicStartedReceipts: jobs.map((j) => j.started) as CycleFacts['organicStartedReceipts'],
      finishedReceipts: jobs.map((j) => j.finished) as CycleFacts['finishedReceipts'],
    });
  }

  it('pays other validators’ organic jobs from their own allowance, never twice, never from forged or foreign receipts', () => {
    const inWindow = T0 + 60_000;
    const ownUuid = 'own-job';
    const tampered = transferred(other, inWindow, '10.000000');
    const forged = { ...tampered, finished: { ...tampered.finished, payload: { ...tampered.finished.payload, score_str: '90.000000' } } };
    const synthetic = transferred(other, inWindow, '15.000000', { organic: false });
    const madeOrganic = { ...synthetic, started: { ...synthetic.started, payload: { ...synthetic.started.payload, is_organic: true } } };
    const jobs = [
      // `other` holds 700 of 1000 validator stake: 2 executors × 0.7 × 12 s = 16.8 s per block, 168 s in the cycle.
      transferred(other, inWindow, '50.000000'), // oldest first: blocks 100-102 → 50
      transferred(other, inWindow, '30.000000', { blocks: [105, 106] }), // 33.6 s ≥ 30 → 30
      transferred(other, inWindow, '200.000000'), // 5 blocks left, 84 s < 200 → 0
      transferred(other, T0 - 1, '5.000000'), // finished before this window: paid in the previous cycle
      transferred(other, inWindow, '5.000000', { organic: false }), // synthetic: allowance pays organic work only
      transferred(other, inWindow, '0.000000'), // a failed job: nothing spent
      forged, // score raised after signing: the signature no longer matches
      madeOrganic, // a synthetic job's started receipt turned organic after signing
      transferred(noPermit, inWindow, '10.000000'), // no validator permit: no allowance → 0
      // This validator's own job as transferred back from the miner: paid once, from facts.jobs.
      transferred(self, inWindow, '20.000000', { jobUuid: ownUuid }),
    ];
    const own = [
      job({
        jobUuid: ownUuid,
        minerHotkey: miner.ss58,
        executorClass: X,
        kind: 'organic',
        correct: undefined,
        inTime: undefined,
        executorSeconds: 20,
      }),
    ];
    expect(allowancePaidJobsRule().apply(factsWith(jobs, own), {})).toEqual({ [miner.ss58]: { [X]: 20 + 50 + 30 } });
  });

  it('keeps each validator within its own stake share', () => {
    // `self` (300 of 1000): 7.2 s per block, 72 s in the cycle; `other`'s receipts do not spend it.
    const jobs = [transferred(other, T0 + 1_000, '160.000000'), transferred(self, T0 + 1_000, '100.000000', { jobUuid: 'mine' })];
    const own = [
      job({
        jobUuid: 'mine',
        minerHotkey: miner.ss58,
        executorClass: X,
        kind: 'organic',
        correct: undefined,
        inTime: undefined,
        executorSeconds: 100,
      }),
    ];
    expect(allowancePaidJobsRule().apply(factsWith(jobs, own), {})).toEqual({ [miner.ss58]: { [X]: 160 } });
  });
});
