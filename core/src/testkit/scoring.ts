import { describe, expect, it } from 'vitest';
import type {
  CycleFacts,
  JobAcceptedReceiptPayload,
  JobFinishedReceiptPayload,
  JobOutcome,
  JobStartedReceiptPayload,
  NeuronFact,
  Receipt,
  ScoreTable,
  ScoringRule,
} from '../contracts/index.js';
import { cryptoReady, loadHotkey, type Hotkey } from '../keys/index.js';
import { datetimeFromEpochMicros } from '../protocol/datetime.js';
import { receiptBlob } from '../protocol/receipts.js';
import { verifyValidatorSignatureSync } from '../protocol/receipt-signature.js';

/**
 * Helpers for testing `ScoringRule`s: fact builders, real sr25519 receipts, and the contract
 * every rule must keep (pure, deterministic, never mutating its inputs).
 */

/** Facts of an empty cycle; override what the test is about. Signatures are checked for real. */
export function scoringFacts(overrides: Partial<CycleFacts> = {}): CycleFacts {
  return {
    cycle: { index: 1, startBlock: 722, endBlock: 1443 },
    window: { fromMs: Date.UTC(2025, 4, 1, 12, 0, 0), toMs: Date.UTC(2025, 4, 1, 14, 24, 0) },
    netuid: 1,
    validatorHotkey: 'validator',
    jobs: [],
    manifests: {},
    neurons: [],
    hardwareClasses: [],
    mainHotkeys: {},
    organicStartedReceipts: [],
    acceptedReceipts: [],
    finishedReceipts: [],
    verifyValidatorSignature: verifyValidatorSignatureSync,
    ...overrides,
  };
}

let jobCounter = 0;

/** A synthetic job that completed correctly and in time, unless overridden. */
export function job(overrides: Partial<JobOutcome> & Pick<JobOutcome, 'minerHotkey' | 'executorClass'>): JobOutcome {
  jobCounter += 1;
  return { jobUuid: `job-${jobCounter}`, kind: 'synthetic', status: 'completed', correct: true, inTime: true, ...overrides };
}

export function neuron(fields: Partial<NeuronFact> & Pick<NeuronFact, 'hotkey' | 'coldkey'>): NeuronFact {
  return { uid: 0, stake: 0, validatorPermit: fields.stake !== undefined && fields.stake > 0, ...fields };
}

/** A real sr25519 hotkey from a dev URI (`//Alice`); also readies the verifier. */
export async function testHotkey(uri: string): Promise<Hotkey> {
  const [hotkey] = await Promise.all([loadHotkey({ uri }), cryptoReady()]);
  return hotkey;
}

export interface StartedReceiptFields {
  jobUuid?: string;
  minerHotkey?: string;
  /** Validator named in the payload; defaults to the signer. Name another to forge a receipt. */
  validatorHotkey?: string;
  executorClass?: string;
  isOrganic?: boolean;
  ttl?: number;
  /** Receipt time, ms since epoch. */
  timestampMs?: number;
}

/** A JobStartedReceipt signed by `signer` over the exact Python-compatible blob. */
export function signedStartedReceipt(signer: Hotkey, fields: StartedReceiptFields = {}): Receipt<JobStartedReceiptPayload> {
  const payload: JobStartedReceiptPayload = {
    receipt_type: 'JobStartedReceipt',
    job_uuid: fields.jobUuid ?? crypto.randomUUID(),
    miner_hotkey: fields.minerHotkey ?? 'miner',
    validator_hotkey: fields.validatorHotkey ?? signer.ss58,
    timestamp: datetimeFromEpochMicros((fields.timestampMs ?? Date.now()) * 1000),
    executor_class: fields.executorClass ?? 'always_on.test',
    is_organic: fields.isOrganic ?? true,
    ttl: fields.ttl ?? 7,
  };
  return { payload, validator_signature: signer.sign(receiptBlob(payload)), miner_signature: null };
}

export interface AcceptedReceiptFields {
  jobUuid: string;
  minerHotkey: string;
  /** Validator named in the payload; defaults to the signer. */
  validatorHotkey?: string;
  /** When the miner accepted, ms since epoch (also the receipt's timestamp). */
  acceptedAtMs: number;
  /** Seconds the executor is reserved for the job. */
  ttl: number;
}

/** A JobAcceptedReceipt signed by `signer`: the job holds its executor for `ttl` s from `acceptedAtMs`. */
export function signedAcceptedReceipt(signer: Hotkey, fields: AcceptedReceiptFields): Receipt<JobAcceptedReceiptPayload> {
  const at = datetimeFromEpochMicros(fields.acceptedAtMs * 1000);
  const payload: JobAcceptedReceiptPayload = {
    receipt_type: 'JobAcceptedReceipt',
    job_uuid: fields.jobUuid,
    miner_hotkey: fields.minerHotkey,
    validator_hotkey: fields.validatorHotkey ?? signer.ss58,
    timestamp: at,
    time_accepted: at,
    ttl: fields.ttl,
  };
  return { payload, validator_signature: signer.sign(receiptBlob(payload)), miner_signature: null };
}

export interface FinishedReceiptFields {
  jobUuid: string;
  minerHotkey: string;
  validatorHotkey?: string;
  /** When the job was sent to the executor, ms since epoch. */
  startedAtMs: number;
  /** When the job ended (the receipt's timestamp), ms since epoch. */
  finishedAtMs: number;
  /** `score_str`: executor-seconds paid. */
  score?: string;
  /** `block_numbers`: the allowance blocks it was paid with (default none). */
  blockNumbers?: number[];
}

/** A JobFinishedReceipt signed by `signer` for a job that ran from `startedAtMs` to `finishedAtMs`. */
export function signedFinishedReceipt(signer: Hotkey, fields: FinishedReceiptFields): Receipt<JobFinishedReceiptPayload> {
  const payload: JobFinishedReceiptPayload = {
    receipt_type: 'JobFinishedReceipt',
    job_uuid: fields.jobUuid,
    miner_hotkey: fields.minerHotkey,
    validator_hotkey: fields.validatorHotkey ?? signer.ss58,
    timestamp: datetimeFromEpochMicros(fields.finishedAtMs * 1000),
    time_started: datetimeFromEpochMicros(fields.startedAtMs * 1000),
    time_took_us: (fields.finishedAtMs - fields.startedAtMs) * 1000,
    score_str: fields.score ?? '0.000000',
    block_numbers: fields.blockNumbers ?? [],
  };
  return { payload, validator_signature: signer.sign(receiptBlob(payload)), miner_signature: null };
}

export interface ScoringScenario {
  readonly facts: CycleFacts;
  readonly table: ScoreTable;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

function copyScenario(scenario: ScoringScenario): ScoringScenario {
  const { verifyValidatorSignature, ...data } = scenario.facts;
  return { facts: { ...structuredClone(data), verifyValidatorSignature }, table: structuredClone(scenario.table) };
}

/**
 * Asserts the `ScoringRule` contract on each scenario, inline (use inside an `it`): a non-empty
 * name; frozen inputs are left alone; a new table comes back; same input → same output; every
 * cell a finite number ≥ 0.
 */
export function checkScoringRuleContract(rule: ScoringRule, scenarios: readonly ScoringScenario[]): void {
  expect(rule.name).toMatch(/\S/);
  for (const scenario of scenarios) {
    const frozen = deepFreeze(copyScenario(scenario));
    const before = JSON.stringify(frozen);
    const first = rule.apply(frozen.facts, frozen.table);
    const second = rule.apply(frozen.facts, frozen.table);
    expect(JSON.stringify(frozen), 'the rule changed its input').toBe(before);
    expect(first, 'the rule must return a new table').not.toBe(frozen.table);
    expect(second, 'the rule must be deterministic').toEqual(first);
    for (const [hotkey, byClass] of Object.entries(first)) {
      for (const [executorClass, points] of Object.entries(byClass)) {
        expect(Number.isFinite(points) && points >= 0, `${hotkey}/${executorClass} = ${points}`).toBe(true);
      }
    }
  }
}

/** Declares a test block that checks the `ScoringRule` contract (see `checkScoringRuleContract`). */
export function runScoringRuleContract(rule: ScoringRule, scenarios: readonly ScoringScenario[]): void {
  describe(`ScoringRule contract: ${rule.name}`, () => {
    it('is pure, deterministic and returns finite non-negative points', () => checkScoringRuleContract(rule, scenarios));
  });
}
