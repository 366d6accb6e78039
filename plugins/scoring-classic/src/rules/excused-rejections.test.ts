import { beforeAll, describe, expect, it } from 'vitest';
import type { CycleFacts, Hotkey, JobOutcome, Receipt } from '@horde/core';
import {
  checkScoringRuleContract,
  job,
  neuron,
  scoringFacts,
  signedAcceptedReceipt,
  signedFinishedReceipt,
  signedStartedReceipt,
  testHotkey,
} from '@horde/core/testkit';
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
let unpermitted: Hotkey; // 60,000 stake but no validator permit

beforeAll(async () => {
  [self, rich, poor, miner, otherMiner, unpermitted] = (await Promise.all(
    ['//Self', '//Rich', '//Poor', '//Miner', '//OtherMiner', '//NoPermit'].map(testHotkey),
  )) as [Hotkey, Hotkey, Hotkey, Hotkey, Hotkey, Hotkey];
});

const neurons = () => [
  neuron({ uid: 0, hotkey: self.ss58, coldkey: 'c-self', stake: 0 }),
  neuron({ uid: 1, hotkey: rich.ss58, coldkey: 'c-rich', stake: 60_000 }),
  neuron({ uid: 2, hotkey: poor.ss58, coldkey: 'c-poor', stake: 10_000 }),
  neuron({ uid: 3, hotkey: miner.ss58, coldkey: 'c-miner', stake: 0 }),
  neuron({ uid: 4, hotkey: unpermitted.ss58, coldkey: 'c-nopermit', stake: 60_000, validatorPermit: false }),
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
function cycle(
  receipts: Receipt[],
  { declared = 2, taken = 1, reason = 'busy', accepted = [] as Receipt[], finished = [] as Receipt[] } = {},
) {
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
  return scoringFacts({
    validatorHotkey: self.ss58,
    neurons: neurons(),
    jobs,
    manifests: { [miner.ss58]: { [T]: declared } },
    acceptedReceipts: accepted as CycleFacts['acceptedReceipts'],
    finishedReceipts: finished as CycleFacts['finishedReceipts'],
  });
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

  describe('a long organic job of another validator', () => {
    // `rich` started its organic job 5 minutes before the check: the started receipt's 7 s are long over.
    const longJob = () => excuse({ jobUuid: 'long-organic', timestampMs: CHECKED_AT - 300_000 });
    const acceptedFor = (fields: { ttl?: number; signer?: Hotkey; validatorHotkey?: string } = {}) =>
      signedAcceptedReceipt(fields.signer ?? rich, {
        jobUuid: 'long-organic',
        minerHotkey: miner.ss58,
        acceptedAtMs: CHECKED_AT - 299_000,
        ttl: fields.ttl ?? 3_600,
        ...(fields.validatorHotkey ? { validatorHotkey: fields.validatorHotkey } : {}),
      });

    it('excuses for the whole span its accepted receipt covers, attached or transferred', () => {
      expect(excusePoints(cycle([longJob()]))).toBe(0); // the started receipt alone has expired
      expect(excusePoints(cycle([longJob(), acceptedFor()]))).toBe(1); // the miner attached the accepted receipt
      expect(excusePoints(cycle([longJob()], { accepted: [acceptedFor()] }))).toBe(1); // transferred from the miner's pages
    });

    it('stops excusing once the accepted ttl (plus leeway) is over or the job finished', () => {
      expect(excusePoints(cycle([longJob(), acceptedFor({ ttl: 296 })]))).toBe(0); // ran out 1 s before the check
      expect(excusePoints(cycle([longJob(), acceptedFor({ ttl: 298 })]))).toBe(1); // the 2 s leeway covers it
      const finished = signedFinishedReceipt(rich, {
        jobUuid: 'long-organic',
        minerHotkey: miner.ss58,
        startedAtMs: CHECKED_AT - 298_000,
        finishedAtMs: CHECKED_AT - 60_000,
      });
      expect(excusePoints(cycle([longJob(), acceptedFor()], { finished: [finished] }))).toBe(0);
      const verdict = checkExcuseReceipts([longJob(), acceptedFor()], {
        declinedJobUuid: 'declined',
        minerHotkey: miner.ss58,
        executorClass: T,
        checkedAt: CHECKED_AT,
        trustedValidators: trustedExcuseValidators(neurons(), self.ss58, 50_000),
        leewayMs: 2_000,
        verifySignature: scoringFacts().verifyValidatorSignature,
        evidence: { accepted: [], finished: [finished] },
      });
      expect(verdict.rejected.map((r) => r.failures)).toEqual([['finished_before_check']]);
    });

    it('ignores an accepted receipt that is forged, altered or from another validator', () => {
      const forged = acceptedFor({ signer: miner, validatorHotkey: rich.ss58 }); // the miner signs for `rich`
      expect(excusePoints(cycle([longJob(), forged]))).toBe(0);
      const altered = acceptedFor({ ttl: 5 });
      expect(excusePoints(cycle([longJob(), { ...altered, payload: { ...altered.payload, ttl: 3_600 } } as Receipt]))).toBe(0);
      expect(excusePoints(cycle([longJob(), acceptedFor({ signer: poor })]))).toBe(0); // not the validator that started the job
    });
  });

  describe('rejects an excuse receipt', () => {
    it('from a validator with the stake but no validator permit', () => {
      expect(excusePoints(cycle([excuse({}, unpermitted)]))).toBe(0);
    });

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
