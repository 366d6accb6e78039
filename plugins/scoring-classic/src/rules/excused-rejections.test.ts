import { beforeAll, describe, expect, it } from 'vitest';
import type { Hotkey, JobOutcome, Receipt } from '@horde/core';
import { checkScoringRuleContract, job, neuron, scoringFacts, signedStartedReceipt, testHotkey } from '@horde/core/testkit';
import { checkExcuseReceipts, trustedExcuseValidators } from './excuse-receipts.js';
import { excusedRejectionsRule } from './excused-rejections.js';

const T = 'always_on.test';
/** The moment the validator asked for the declined job. */
const CHECKED_AT = Date.UTC(2025, 4, 1, 12, 0, 0);

let self: Hotkey; // this validator, stake 0
let rich: Hotkey; // another validator with 60,000 stake
let poor: Hotkey; // another validator with 10,000 stake
let miner: Hotkey;
let otherMiner: Hotkey;

beforeAll(async () => {
  [self, rich, poor, miner, otherMiner] = (await Promise.all(['//Self', '//Rich', '//Poor', '//Miner', '//OtherMiner'].map(testHotkey))) as [Hotkey, Hotkey, Hotkey, Hotkey, Hotkey];
});

const neurons = () => [
  neuron({ uid: 0, hotkey: self.ss58, coldkey: 'c-self', stake: 0 }),
  neuron({ uid: 1, hotkey: rich.ss58, coldkey: 'c-rich', stake: 60_000 }),
  neuron({ uid: 2, hotkey: poor.ss58, coldkey: 'c-poor', stake: 10_000 }),
  neuron({ uid: 3, hotkey: miner.ss58, coldkey: 'c-miner', stake: 0 }),
];

/** An organic job `rich` started on `miner` 3 s before the check, valid for 7 s: a good excuse. */
function excuse(overrides: Parameters<typeof signedStartedReceipt>[1] = {}, signer: Hotkey = rich): Receipt {
  return signedStartedReceipt(signer, {
    jobUuid: `organic-${Math.random().toString(36).slice(2)}`,
    minerHotkey: miner.ss58,
    executorClass: T,
    isOrganic: true,
    ttl: 7,
    timestampMs: CHECKED_AT - 3_000,
    ...overrides,
  });
}

/**
 * The miner declared `declared` executors of class T; it took `taken` synthetic jobs and declined
 * one more as busy, attaching `receipts`.
 */
function cycle(receipts: Receipt[], { declared = 2, taken = 1, reason = 'busy' } = {}) {
  const jobs: JobOutcome[] = [];
  for (let i = 0; i < taken; i++) jobs.push(job({ jobUuid: `taken-${i}`, minerHotkey: miner.ss58, executorClass: T }));
  jobs.push(
    job({
      jobUuid: 'declined',
      minerHotkey: miner.ss58,
      executorClass: T,
      status: 'rejected',
      correct: undefined,
      inTime: undefined,
      accepted: false,
      rejection: { reason, receipts, checkedAt: CHECKED_AT },
    }),
  );
  return scoringFacts({ validatorHotkey: self.ss58, neurons: neurons(), jobs, manifests: { [miner.ss58]: { [T]: declared } } });
}

/** Points the declined job earned (the rule gives 0 to the taken jobs; synthetic-jobs scores those). */
const excusePoints = (facts: ReturnType<typeof cycle>, rule = excusedRejectionsRule()) => rule.apply(facts, {})[miner.ss58]?.[T];

describe('excused-rejections', () => {
  it('scores a busy decline when taken jobs plus valid receipts cover the declared executors', () => {
    expect(excusePoints(cycle([excuse()]))).toBe(1); // 1 taken + 1 receipt >= 2 declared
  });

  it('scores nothing when they fall short of the declared executors', () => {
    expect(excusePoints(cycle([excuse()], { declared: 3 }))).toBe(0); // 1 + 1 < 3
  });

  it('accepts the validator’s own organic receipts whatever its stake', () => {
    expect(excusePoints(cycle([excuse({}, self)]))).toBe(1);
  });

  it('scores nothing for a decline whose reason is not busy, receipts or not', () => {
    expect(excusePoints(cycle([excuse()], { reason: 'validator_blacklisted' }))).toBe(0);
  });

  it('pays the configured points and honours a lower stake bar', () => {
    const rule = excusedRejectionsRule({ pointsPerJob: 0.5, minimumValidatorStake: 5_000 });
    expect(excusePoints(cycle([excuse({}, poor)]), rule)).toBe(0.5);
  });

  describe('rejects an excuse receipt', () => {
    it('for another miner', () => {
      expect(excusePoints(cycle([excuse({ minerHotkey: otherMiner.ss58 })]))).toBe(0);
    });

    it('from a validator below the stake bar (50,000)', () => {
      expect(excusePoints(cycle([excuse({}, poor)]))).toBe(0);
    });

    it('from a validator not in the metagraph', async () => {
      expect(excusePoints(cycle([excuse({}, await testHotkey('//Unregistered'))]))).toBe(0);
    });

    it('whose ttl plus the 2 s leeway ran out before the check', () => {
      // Issued 9.5 s before the check with ttl 7: valid until 0.5 s before the check.
      expect(excusePoints(cycle([excuse({ timestampMs: CHECKED_AT - 9_500 })]))).toBe(0);
      // Issued 8.5 s before: the leeway keeps it valid until 0.5 s after the check.
      expect(excusePoints(cycle([excuse({ timestampMs: CHECKED_AT - 8_500 })]))).toBe(1);
    });

    it('issued at or after the check', () => {
      expect(excusePoints(cycle([excuse({ timestampMs: CHECKED_AT })]))).toBe(0);
    });

    it('with a signature that does not match (forged by another key, or payload altered)', () => {
      const forged = excuse({ validatorHotkey: rich.ss58 }, miner); // claims `rich`, signed by the miner
      expect(excusePoints(cycle([forged]))).toBe(0);
      const altered = excuse();
      const tampered = { ...altered, payload: { ...altered.payload, ttl: 600 } } as Receipt;
      expect(excusePoints(cycle([tampered]))).toBe(0);
    });

    it('shown twice for the same organic job', () => {
      const receipt = excuse();
      expect(excusePoints(cycle([receipt, receipt], { declared: 3 }))).toBe(0); // 1 + 1 unique < 3
      expect(excusePoints(cycle([receipt, excuse()], { declared: 3 }))).toBe(1); // 1 + 2 >= 3
    });

    it('for a synthetic job, for another executor class, or for the declined job itself', () => {
      expect(excusePoints(cycle([excuse({ isOrganic: false })]))).toBe(0);
      expect(excusePoints(cycle([excuse({ executorClass: 'always_on.gpu-24gb' })]))).toBe(0);
      expect(excusePoints(cycle([excuse({ jobUuid: 'declined' })]))).toBe(0);
    });
  });

  it('names every check a receipt failed', () => {
    const receipt = excuse({ minerHotkey: otherMiner.ss58, executorClass: 'always_on.gpu-24gb', timestampMs: CHECKED_AT + 1 }, poor);
    const verdict = checkExcuseReceipts([receipt, receipt], {
      declinedJobUuid: 'declined',
      minerHotkey: miner.ss58,
      executorClass: T,
      checkedAt: CHECKED_AT,
      trustedValidators: trustedExcuseValidators(neurons(), self.ss58, 50_000),
      leewayMs: 2_000,
      verifySignature: scoringFacts().verifyValidatorSignature,
    });
    expect(verdict.valid).toEqual([]);
    expect(verdict.rejected[0]!.failures).toEqual(['other_miner', 'other_executor_class', 'validator_not_trusted', 'issued_after_check']);
  });

  it('trusts itself and every neuron at or above the stake bar', () => {
    expect([...trustedExcuseValidators(neurons(), self.ss58, 10_000)].sort()).toEqual([self.ss58, rich.ss58, poor.ss58].sort());
  });

  it('satisfies the scoring-rule contract', () => {
    // Declared here because the receipts need the keys loaded in beforeAll.
    checkScoringRuleContract(excusedRejectionsRule(), [{ facts: cycle([excuse()]), table: { [miner.ss58]: { [T]: 1 } } }]);
  });
});
