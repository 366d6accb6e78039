import { beforeAll, describe, expect, it } from 'vitest';
import type { CycleFacts, Hotkey, Receipt } from '@horde/core';
import {
  checkScoringRuleContract,
  neuron,
  scoringFacts,
  signedAcceptedReceipt,
  signedFinishedReceipt,
  signedStartedReceipt,
  testHotkey,
} from '@horde/core/testkit';
import { executorTimeRule } from './executor-time.js';

const T = 'always_on.test';
const MIN = 60_000;
/** The start of the cycle being scored; each cycle's window is 10 minutes. */
const T0 = Date.UTC(2025, 4, 1, 12, 0, 0);

let self: Hotkey;
let rich: Hotkey; // a validator with a permit and 60,000 stake
let poor: Hotkey; // 10,000 stake: below the bar
let miner: Hotkey;

beforeAll(async () => {
  [self, rich, poor, miner] = (await Promise.all(['//Self', '//Rich', '//Poor', '//Miner'].map(testHotkey))) as [
    Hotkey,
    Hotkey,
    Hotkey,
    Hotkey,
  ];
});

const neurons = () => [
  neuron({ uid: 0, hotkey: self.ss58, coldkey: 'c-self', stake: 0 }),
  neuron({ uid: 1, hotkey: rich.ss58, coldkey: 'c-rich', stake: 60_000 }),
  neuron({ uid: 2, hotkey: poor.ss58, coldkey: 'c-poor', stake: 10_000 }),
  neuron({ uid: 3, hotkey: miner.ss58, coldkey: 'c-miner', stake: 0 }),
];

interface JobReceipts {
  started: Receipt;
  accepted?: Receipt;
  finished?: Receipt;
}

/** An organic job `signer` started at `startMs`, accepted 1 s later for `ttl` s; finished if `ran` is given. */
function organicJob(
  signer: Hotkey,
  startMs: number,
  options: { ttl?: number; ran?: [fromMs: number, toMs: number]; organic?: boolean } = {},
): JobReceipts {
  const jobUuid = `job-${Math.random().toString(36).slice(2)}`;
  const fields = { jobUuid, minerHotkey: miner.ss58 };
  return {
    started: signedStartedReceipt(signer, {
      ...fields,
      executorClass: T,
      isOrganic: options.organic ?? true,
      ttl: 7,
      timestampMs: startMs,
    }),
    accepted: signedAcceptedReceipt(signer, { ...fields, acceptedAtMs: startMs + 1_000, ttl: options.ttl ?? 3_600 }),
    ...(options.ran
      ? { finished: signedFinishedReceipt(signer, { ...fields, startedAtMs: options.ran[0], finishedAtMs: options.ran[1] }) }
      : {}),
  };
}

/** Facts of the cycle whose window starts `cycle × 10` minutes after T0, holding these jobs' receipts. */
function cycleWith(jobs: JobReceipts[], cycle = 0): CycleFacts {
  return scoringFacts({
    validatorHotkey: self.ss58,
    neurons: neurons(),
    window: { fromMs: T0 + cycle * 10 * MIN, toMs: T0 + (cycle + 1) * 10 * MIN },
    organicStartedReceipts: jobs.map((j) => j.started) as CycleFacts['organicStartedReceipts'],
    acceptedReceipts: jobs.flatMap((j) => (j.accepted ? [j.accepted] : [])) as CycleFacts['acceptedReceipts'],
    finishedReceipts: jobs.flatMap((j) => (j.finished ? [j.finished] : [])) as CycleFacts['finishedReceipts'],
  });
}

const minutes = (facts: CycleFacts, rule = executorTimeRule()) => rule.apply(facts, {})[miner.ss58]?.[T];

describe('executor-time', () => {
  it('credits a long job cycle by cycle while it runs, then the part of the last cycle it ran', () => {
    // Accepted at T0 - 5 min + 1 s, still running: the whole first window (10 min) counts.
    const running = organicJob(rich, T0 - 5 * MIN);
    expect(minutes(cycleWith([running], 0))).toBeCloseTo(10, 9);
    // It ran from T0 - 4 min to T0 + 14 min: 4 minutes of the second window.
    const ended = {
      ...running,
      finished: signedFinishedReceipt(rich, {
        jobUuid: running.started.payload.job_uuid,
        minerHotkey: miner.ss58,
        startedAtMs: T0 - 4 * MIN,
        finishedAtMs: T0 + 14 * MIN,
      }),
    };
    expect(minutes(cycleWith([ended], 1))).toBeCloseTo(4, 9);
    expect(minutes(cycleWith([ended], 2))).toBeUndefined();
  });

  it('credits the time a job that failed or was cancelled actually ran', () => {
    // A finished receipt with score 0 (failed): 3 minutes, T0 + 2 to T0 + 5.
    const failed = organicJob(self, T0 + 1 * MIN, { ran: [T0 + 2 * MIN, T0 + 5 * MIN] });
    expect(minutes(cycleWith([failed]))).toBeCloseTo(3, 9);
  });

  it('never credits past the accepted receipt’s ttl', () => {
    // Accepted at T0 + 1 s and reserved for 120 s; the finished receipt claims 9 minutes from T0 + 1 s.
    const overlong = organicJob(rich, T0, { ttl: 120, ran: [T0 + 1_000, T0 + 9 * MIN] });
    expect(minutes(cycleWith([overlong]))).toBeCloseTo(2, 9);
    // Still running by the receipts, but the reservation ended after 120 s.
    expect(minutes(cycleWith([organicJob(rich, T0, { ttl: 120 })]))).toBeCloseTo(2, 9);
  });

  it('credits nothing for jobs of an untrusted validator, synthetic jobs, jobs never accepted or forged receipts', () => {
    expect(minutes(cycleWith([organicJob(poor, T0)]))).toBeUndefined();
    expect(minutes(cycleWith([organicJob(rich, T0, { organic: false })]))).toBeUndefined();
    const { accepted: _accepted, ...notAccepted } = organicJob(rich, T0);
    expect(minutes(cycleWith([notAccepted]))).toBeUndefined();
    const job = organicJob(rich, T0);
    const stretched = { ...job, accepted: { ...job.accepted!, payload: { ...job.accepted!.payload, ttl: 99_999 } } as Receipt };
    expect(
      minutes(
        cycleWith([
          {
            ...stretched,
            accepted: signedAcceptedReceipt(miner, {
              jobUuid: job.started.payload.job_uuid,
              minerHotkey: miner.ss58,
              validatorHotkey: rich.ss58,
              acceptedAtMs: T0,
              ttl: 600,
            }),
          },
        ]),
      ),
    ).toBeUndefined();
    expect(minutes(cycleWith([stretched]))).toBeUndefined();
  });

  it('pays the configured points per minute and honours a lower stake bar', () => {
    const rule = executorTimeRule({ pointsPerMinute: 0.5, minimumValidatorStake: 5_000 });
    expect(minutes(cycleWith([organicJob(poor, T0 - MIN)]), rule)).toBeCloseTo(5, 9);
  });

  it('satisfies the scoring-rule contract', () => {
    checkScoringRuleContract(executorTimeRule(), [{ facts: cycleWith([organicJob(rich, T0 - MIN)]), table: { [miner.ss58]: { [T]: 1 } } }]);
  });
});
