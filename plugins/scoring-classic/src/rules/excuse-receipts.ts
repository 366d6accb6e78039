import {
  datetimeToEpochMicros,
  type JobAcceptedReceiptPayload,
  type JobFinishedReceiptPayload,
  type JobStartedReceiptPayload,
  type NeuronFact,
  type Receipt,
} from '@horde/core';

/**
 * Checking the receipts a miner attaches when it declines a synthetic job as `busy`. Each started
 * receipt claims "an executor of this class was running an organic job for another validator
 * when you asked". The rules follow ComputeHorde's `filter_valid_excuse_receipts`, with one
 * difference that matters for long jobs: the started receipt's ttl is only the reservation window
 * (7 s for organic jobs), so it may also be covered by the job's accepted receipt, whose ttl is the
 * job's whole span, as ComputeHorde's router combines the two when it counts busy executors. A
 * finished receipt of that job before the check ends the excuse.
 */

/** Why a receipt did not count as an excuse. A receipt may fail several checks at once. */
export type ExcuseFailure =
  | 'not_organic'
  | 'other_miner'
  | 'same_job'
  | 'other_executor_class'
  | 'validator_not_trusted'
  | 'bad_timestamp'
  | 'issued_after_check'
  | 'expired'
  | 'finished_before_check'
  | 'bad_signature'
  | 'duplicate';

/** Accepted and finished receipts that say how long each organic job held its executor. */
export interface JobSpanEvidence {
  readonly accepted: readonly Receipt[];
  readonly finished: readonly Receipt[];
}

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
  /**
   * Accepted and finished receipts known besides the attached ones (transferred from miners:
   * `facts.acceptedReceipts`, `facts.finishedReceipts`). Attached ones are always used too.
   */
  readonly evidence?: JobSpanEvidence;
}

export interface ExcuseVerdict {
  readonly valid: readonly Receipt<JobStartedReceiptPayload>[];
  readonly rejected: ReadonlyArray<{ readonly receipt: Receipt; readonly failures: readonly ExcuseFailure[] }>;
}

/**
 * Validators whose organic jobs excuse a decline: every neuron with a validator permit and at
 * least `minimumStake`, plus this validator itself whatever its stake (it trusts its own
 * receipts). Keeping the bar high, and asking for the permit the chain grants only to top stake,
 * stops a miner from excusing itself with receipts signed by a key it registered cheaply.
 */
export function trustedExcuseValidators(neurons: readonly NeuronFact[], ownHotkey: string, minimumStake: number): Set<string> {
  const trusted = new Set<string>([ownHotkey]);
  for (const neuron of neurons) if (neuron.validatorPermit && neuron.stake >= minimumStake) trusted.add(neuron.hotkey);
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

/** Receipts of one type by job uuid. */
function byJob<P extends JobAcceptedReceiptPayload | JobFinishedReceiptPayload>(
  receipts: Iterable<Receipt>,
  type: P['receipt_type'],
): Map<string, Receipt<P>[]> {
  const map = new Map<string, Receipt<P>[]>();
  for (const receipt of receipts) {
    if (receipt.payload.receipt_type !== type) continue;
    const list = map.get(receipt.payload.job_uuid) ?? [];
    list.push(receipt as Receipt<P>);
    map.set(receipt.payload.job_uuid, list);
  }
  return map;
}

/** Accepted and finished receipts by job. */
interface SpanIndex {
  readonly accepted: Map<string, Receipt<JobAcceptedReceiptPayload>[]>;
  readonly finished: Map<string, Receipt<JobFinishedReceiptPayload>[]>;
}

function spanIndex(receipts: readonly Receipt[]): SpanIndex {
  return {
    accepted: byJob<JobAcceptedReceiptPayload>(receipts, 'JobAcceptedReceipt'),
    finished: byJob<JobFinishedReceiptPayload>(receipts, 'JobFinishedReceipt'),
  };
}

/**
 * The transferred evidence indexed once per evidence object, not once per decline: a cycle's
 * evidence is shared by every decline it checks (the scoring benchmark: 100,000 declines against
 * 1,000 transferred jobs took 12 s re-indexing it each time). A cache with no effect on results.
 */
const evidenceIndexes = new WeakMap<JobSpanEvidence, SpanIndex>();

function evidenceIndex(evidence: JobSpanEvidence): SpanIndex {
  let index = evidenceIndexes.get(evidence);
  if (!index) {
    index = spanIndex([...evidence.accepted, ...evidence.finished]);
    evidenceIndexes.set(evidence, index);
  }
  return index;
}

/** What the accepted and finished receipts say about one organic job's span at the check time. */
class JobSpans {
  private readonly attached: SpanIndex;
  private readonly evidence: SpanIndex | null;

  constructor(
    attached: readonly Receipt[],
    evidence: JobSpanEvidence | undefined,
    private readonly check: ExcuseCheck,
  ) {
    this.attached = spanIndex(attached);
    this.evidence = evidence ? evidenceIndex(evidence) : null;
  }

  /** The job's accepted receipts: those attached to the decline first, then the transferred ones. */
  private acceptedOf(jobUuid: string): Receipt<JobAcceptedReceiptPayload>[] {
    return [...(this.attached.accepted.get(jobUuid) ?? []), ...(this.evidence?.accepted.get(jobUuid) ?? [])];
  }

  private finishedOf(jobUuid: string): Receipt<JobFinishedReceiptPayload>[] {
    return [...(this.attached.finished.get(jobUuid) ?? []), ...(this.evidence?.finished.get(jobUuid) ?? [])];
  }

  /** Signed by the same validator, for the same miner, and the signature verifies. */
  private sameParties(receipt: Receipt, started: JobStartedReceiptPayload): boolean {
    const p = receipt.payload;
    return (
      p.validator_hotkey === started.validator_hotkey &&
      p.miner_hotkey === started.miner_hotkey &&
      signatureHolds(receipt, this.check.verifySignature)
    );
  }

  /** The job's accepted receipt holds the executor at `atMicros`: accepted before it, ttl + leeway not over. */
  coveredByAccepted(started: JobStartedReceiptPayload, atMicros: number): boolean {
    return this.acceptedOf(started.job_uuid).some((receipt) => {
      const from = isoToMicros(receipt.payload.time_accepted);
      if (Number.isNaN(from) || from > atMicros) return false;
      if (atMicros >= from + receipt.payload.ttl * 1_000_000 + this.check.leewayMs * 1000) return false;
      return this.sameParties(receipt, started);
    });
  }

  /** A finished receipt of the job was issued at or before `atMicros`: the executor was free again. */
  finishedBefore(started: JobStartedReceiptPayload, atMicros: number): boolean {
    return this.finishedOf(started.job_uuid).some((receipt) => {
      const at = isoToMicros(receipt.payload.timestamp);
      return !Number.isNaN(at) && at <= atMicros && this.sameParties(receipt, started);
    });
  }
}

const NO_RECEIPTS: ExcuseVerdict = Object.freeze({ valid: Object.freeze([]), rejected: Object.freeze([]) });

/**
 * Splits a decline's started receipts into those that excuse it and those that do not (with the
 * reasons). The decline's accepted and finished receipts, and `check.evidence`, are used to tell
 * how long each organic job held its executor; they are not excuses themselves.
 */
export function checkExcuseReceipts(receipts: readonly Receipt[], check: ExcuseCheck): ExcuseVerdict {
  // Most declines attach nothing: answer those before building any index.
  if (receipts.length === 0) return NO_RECEIPTS;
  const valid: Receipt<JobStartedReceiptPayload>[] = [];
  const rejected: Array<{ receipt: Receipt; failures: ExcuseFailure[] }> = [];
  const spans = new JobSpans(receipts, check.evidence, check);
  // A receipt may be shown only once: the same organic job cannot cover two executors.
  const counted = new Set<string>();
  const checkedAtMicros = check.checkedAt * 1000;

  for (const receipt of receipts) {
    if (!isStartedReceipt(receipt)) continue;
    const payload = receipt.payload;
    const failures: ExcuseFailure[] = [];
    if (!payload.is_organic) failures.push('not_organic');
    if (payload.miner_hotkey !== check.minerHotkey) failures.push('other_miner');
    if (payload.job_uuid === check.declinedJobUuid) failures.push('same_job');
    if (payload.executor_class !== check.executorClass) failures.push('other_executor_class');
    if (!check.trustedValidators.has(payload.validator_hotkey)) failures.push('validator_not_trusted');

    // Holds while `timestamp < checkedAt` and either `checkedAt < timestamp + ttl + leeway` or the
    // job's accepted receipt covers `checkedAt`; and not once the job has finished.
    const issuedAt = isoToMicros(payload.timestamp);
    if (Number.isNaN(issuedAt)) {
      failures.push('bad_timestamp');
    } else {
      if (issuedAt >= checkedAtMicros) failures.push('issued_after_check');
      const withinOwnTtl = checkedAtMicros < issuedAt + payload.ttl * 1_000_000 + check.leewayMs * 1000;
      if (!withinOwnTtl && !spans.coveredByAccepted(payload, checkedAtMicros)) failures.push('expired');
      if (spans.finishedBefore(payload, checkedAtMicros)) failures.push('finished_before_check');
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
