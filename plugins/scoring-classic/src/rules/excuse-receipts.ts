import { datetimeToEpochMicros, type JobStartedReceiptPayload, type NeuronFact, type Receipt } from '@horde/core';

/**
 * Checking the receipts a miner attaches when it declines a synthetic job as `busy`. Each receipt
 * claims "an executor of this class was running an organic job for another validator when you
 * asked". The rules follow ComputeHorde's `filter_valid_excuse_receipts`; a receipt counts only if
 * every one of them holds.
 */

/** Why a receipt did not count as an excuse. A receipt may fail several checks at once. */
export type ExcuseFailure =
  | 'not_a_started_receipt'
  | 'not_organic'
  | 'other_miner'
  | 'same_job'
  | 'other_executor_class'
  | 'validator_not_trusted'
  | 'bad_timestamp'
  | 'issued_after_check'
  | 'expired'
  | 'bad_signature'
  | 'duplicate';

export interface ExcuseCheck {
  /** The job the miner declined; a receipt for that same job proves nothing. */
  readonly declinedJobUuid: string;
  readonly minerHotkey: string;
  readonly executorClass: string;
  /** When the validator asked for the declined job (its started receipt's time), ms since epoch. */
  readonly checkedAt: number;
  /** Validators whose receipts may excuse a decline (see `trustedExcuseValidators`). */
  readonly trustedValidators: ReadonlySet<string>;
  /** Clock skew allowed past a receipt's ttl. ComputeHorde uses 2 s. */
  readonly leewayMs: number;
  readonly verifySignature: (receipt: Receipt) => boolean;
}

export interface ExcuseVerdict {
  readonly valid: readonly Receipt<JobStartedReceiptPayload>[];
  readonly rejected: ReadonlyArray<{ readonly receipt: Receipt; readonly failures: readonly ExcuseFailure[] }>;
}

/**
 * Validators whose organic jobs excuse a decline: every neuron with at least `minimumStake`, plus
 * this validator itself whatever its stake (it trusts its own receipts). Keeping the bar high
 * stops a miner from excusing itself with receipts signed by a validator it registered cheaply.
 */
export function trustedExcuseValidators(
  neurons: readonly NeuronFact[],
  ownHotkey: string,
  minimumStake: number,
): Set<string> {
  const trusted = new Set<string>([ownHotkey]);
  for (const neuron of neurons) if (neuron.stake >= minimumStake) trusted.add(neuron.hotkey);
  return trusted;
}

/**
 * Microseconds since the epoch of a receipt timestamp, read with core's pydantic-compatible parser
 * (the forms pydantic accepts, microseconds kept): `2025-01-02T03:04:05.123456Z`, `+02:00`
 * offsets, and naive timestamps, which are taken as UTC, never in this machine's time zone (a
 * validator's local zone must not change which excuses count). NaN when pydantic would refuse it.
 */
export function isoToMicros(iso: string): number {
  const micros = datetimeToEpochMicros(iso);
  return micros === null ? Number.NaN : Number(micros);
}

function isStartedReceipt(receipt: Receipt): receipt is Receipt<JobStartedReceiptPayload> {
  return receipt.payload.receipt_type === 'JobStartedReceipt';
}

function signatureHolds(receipt: Receipt, verify: (receipt: Receipt) => boolean): boolean {
  try {
    return verify(receipt);
  } catch {
    return false;
  }
}

/** Splits a decline's receipts into those that excuse it and those that do not (with the reasons). */
export function checkExcuseReceipts(receipts: readonly Receipt[], check: ExcuseCheck): ExcuseVerdict {
  const valid: Receipt<JobStartedReceiptPayload>[] = [];
  const rejected: Array<{ receipt: Receipt; failures: ExcuseFailure[] }> = [];
  // A receipt may be shown only once: the same organic job cannot cover two executors.
  const counted = new Set<string>();
  const checkedAtMicros = check.checkedAt * 1000;

  for (const receipt of receipts) {
    if (!isStartedReceipt(receipt)) {
      rejected.push({ receipt, failures: ['not_a_started_receipt'] });
      continue;
    }
    const payload = receipt.payload;
    const failures: ExcuseFailure[] = [];
    if (!payload.is_organic) failures.push('not_organic');
    if (payload.miner_hotkey !== check.minerHotkey) failures.push('other_miner');
    if (payload.job_uuid === check.declinedJobUuid) failures.push('same_job');
    if (payload.executor_class !== check.executorClass) failures.push('other_executor_class');
    if (!check.trustedValidators.has(payload.validator_hotkey)) failures.push('validator_not_trusted');

    // Valid while `timestamp < checkedAt < timestamp + ttl + leeway`.
    const issuedAt = isoToMicros(payload.timestamp);
    if (Number.isNaN(issuedAt)) {
      failures.push('bad_timestamp');
    } else {
      if (issuedAt >= checkedAtMicros) failures.push('issued_after_check');
      if (checkedAtMicros >= issuedAt + payload.ttl * 1_000_000 + check.leewayMs * 1000) failures.push('expired');
    }

    if (!signatureHolds(receipt, check.verifySignature)) failures.push('bad_signature');
    if (counted.has(payload.job_uuid)) failures.push('duplicate');

    if (failures.length > 0) {
      rejected.push({ receipt, failures });
      continue;
    }
    counted.add(payload.job_uuid);
    valid.push(receipt);
  }
  return { valid, rejected };
}
