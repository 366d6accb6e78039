import type {
  JobAcceptedReceiptPayload,
  JobFinishedReceiptPayload,
  JobStartedReceiptPayload,
  Receipt,
  ReceiptPayload,
} from '../contracts/receipt.js';
import { defineError, HordeError } from '../errors.js';
import type { Hotkey } from '../keys/index.js';
import { verifySignature } from '../keys/verify.js';
import { canonicalPydanticDatetime, utcNowPydantic } from './datetime.js';
import { pythonJsonDumps } from './python-json.js';

/**
 * Receipts: the validator signs a payload, the miner countersigns the same bytes. The bytes are
 * `json.dumps(payload.model_dump(mode="json"), sort_keys=True)` — what ComputeHorde's
 * `blob_for_signing` returns — so receipts verify across the two implementations.
 */

export class ReceiptBlobError extends defineError('HORDE_INVALID_RECEIPT_PAYLOAD') {}

function datetime(payload: ReceiptPayload, field: string, value: string): string {
  const canonical = canonicalPydanticDatetime(value);
  if (canonical === null) throw new ReceiptBlobError(`${payload.receipt_type}.${field} is not a datetime: ${JSON.stringify(value)}`);
  return canonical;
}

/**
 * The text both parties sign. Only the model's declared fields go in (pydantic drops extras), and
 * datetimes are re-formatted as pydantic writes them. Throws `ReceiptBlobError` for a payload the
 * Python side could not have parsed (an unparsable datetime).
 */
export function receiptBlob(payload: ReceiptPayload): string {
  const base = {
    job_uuid: payload.job_uuid,
    miner_hotkey: payload.miner_hotkey,
    validator_hotkey: payload.validator_hotkey,
    timestamp: datetime(payload, 'timestamp', payload.timestamp),
    receipt_type: payload.receipt_type,
  };
  switch (payload.receipt_type) {
    case 'JobStartedReceipt':
      return pythonJsonDumps(
        { ...base, executor_class: payload.executor_class, is_organic: payload.is_organic, ttl: payload.ttl },
        { sortKeys: true },
      );
    case 'JobAcceptedReceipt':
      return pythonJsonDumps(
        { ...base, time_accepted: datetime(payload, 'time_accepted', payload.time_accepted), ttl: payload.ttl },
        { sortKeys: true },
      );
    case 'JobFinishedReceipt':
      return pythonJsonDumps(
        {
          ...base,
          time_started: datetime(payload, 'time_started', payload.time_started),
          time_took_us: payload.time_took_us,
          score_str: payload.score_str,
          block_numbers: payload.block_numbers ?? [],
        },
        { sortKeys: true },
      );
    default: {
      const unknown: { receipt_type?: unknown } = payload;
      throw new ReceiptBlobError(`unknown receipt_type ${String(unknown.receipt_type)}`);
    }
  }
}

/** Validator side: sign a payload. The receipt has no miner signature yet. */
export function signReceipt<P extends ReceiptPayload>(payload: P, validator: Hotkey): Receipt<P> {
  if (payload.validator_hotkey !== validator.ss58) {
    throw new ReceiptBlobError(`receipt names validator ${payload.validator_hotkey} but is signed by ${validator.ss58}`);
  }
  return { payload, validator_signature: validator.sign(receiptBlob(payload)), miner_signature: null };
}

/** Miner side: countersign a receipt (check it first with `verifyReceipt(..., { requireMiner: false })`). */
export function countersignReceipt<P extends ReceiptPayload>(receipt: Receipt<P>, miner: Hotkey): Receipt<P> {
  if (receipt.payload.miner_hotkey !== miner.ss58) {
    throw new ReceiptBlobError(`receipt names miner ${receipt.payload.miner_hotkey} but is countersigned by ${miner.ss58}`);
  }
  return { ...receipt, miner_signature: miner.sign(receiptBlob(receipt.payload)) };
}

export type ReceiptErrorCode =
  'HORDE_INVALID_RECEIPT_PAYLOAD' | 'BAD_VALIDATOR_SIGNATURE' | 'BAD_MINER_SIGNATURE' | 'MISSING_MINER_SIGNATURE';

export class ReceiptVerificationError extends HordeError {
  declare readonly code: ReceiptErrorCode;

  constructor(code: ReceiptErrorCode, message: string) {
    super(code, message);
  }
}

export type ReceiptVerification = { ok: true } | { ok: false; error: ReceiptVerificationError };

/** Checks one party's signature over a payload (e.g. `job_started_receipt_signature`). */
export async function verifyReceiptSignature(payload: ReceiptPayload, signature: string, signer: 'validator' | 'miner'): Promise<boolean> {
  let blob: string;
  try {
    blob = receiptBlob(payload);
  } catch {
    return false;
  }
  return verifySignature(blob, signature, signer === 'validator' ? payload.validator_hotkey : payload.miner_hotkey);
}

/**
 * Verifies the validator's signature and, unless `requireMiner` is false, the miner's. Signers are
 * the hotkeys the payload names.
 */
export async function verifyReceipt(receipt: Receipt, opts: { requireMiner?: boolean } = {}): Promise<ReceiptVerification> {
  const fail = (code: ReceiptErrorCode, message: string): ReceiptVerification => ({
    ok: false,
    error: new ReceiptVerificationError(code, message),
  });
  const { payload } = receipt;
  let blob: string;
  try {
    blob = receiptBlob(payload);
  } catch (error) {
    return fail('HORDE_INVALID_RECEIPT_PAYLOAD', (error as Error).message);
  }
  if (!(await verifySignature(blob, receipt.validator_signature, payload.validator_hotkey))) {
    return fail(
      'BAD_VALIDATOR_SIGNATURE',
      `validator signature of ${payload.receipt_type} ${payload.job_uuid} does not verify for ${payload.validator_hotkey}`,
    );
  }
  if (opts.requireMiner === false && receipt.miner_signature === null) return { ok: true };
  if (receipt.miner_signature === null) {
    return fail('MISSING_MINER_SIGNATURE', `${payload.receipt_type} ${payload.job_uuid} has no miner signature`);
  }
  if (!(await verifySignature(blob, receipt.miner_signature, payload.miner_hotkey))) {
    return fail(
      'BAD_MINER_SIGNATURE',
      `miner signature of ${payload.receipt_type} ${payload.job_uuid} does not verify for ${payload.miner_hotkey}`,
    );
  }
  return { ok: true };
}

/**
 * `f"{value:.6f}"`, the format of `score_str`. `toFixed` rounds an exact half away from zero, Python
 * to even. A double is an exact half at the 7th decimal only when it is an odd multiple of 1/128
 * (`x = m / (2 × 10^6)` needs 5^6 to divide m), so only those need the other neighbour.
 */
export function formatScore(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`score must be finite, got ${value}`);
  const away = value.toFixed(6);
  const scaled = value * 128; // exact: a power of two
  if (!Number.isSafeInteger(scaled) || scaled % 2 === 0) return away;
  const truncated = value.toFixed(7).slice(0, -1); // exactly seven decimals, the last one a 5
  return Number(truncated.at(-1)) % 2 === 0 ? truncated : away;
}

interface CommonFields {
  jobUuid: string;
  minerHotkey: string;
  /** When the receipt was made; defaults to now (microsecond precision). */
  timestamp?: string;
}

/** The JobStartedReceipt a validator sends inside `V0InitialJobRequest`. */
export function createJobStartedReceipt(
  fields: CommonFields & { executorClass: string; isOrganic: boolean; ttl: number },
  validator: Hotkey,
): Receipt<JobStartedReceiptPayload> {
  return signReceipt(
    {
      receipt_type: 'JobStartedReceipt',
      job_uuid: fields.jobUuid,
      miner_hotkey: fields.minerHotkey,
      validator_hotkey: validator.ss58,
      timestamp: fields.timestamp ?? utcNowPydantic(),
      executor_class: fields.executorClass,
      is_organic: fields.isOrganic,
      ttl: fields.ttl,
    },
    validator,
  );
}

/** The JobAcceptedReceipt a validator sends after the miner accepted. */
export function createJobAcceptedReceipt(
  fields: CommonFields & { timeAccepted: string; ttl: number },
  validator: Hotkey,
): Receipt<JobAcceptedReceiptPayload> {
  return signReceipt(
    {
      receipt_type: 'JobAcceptedReceipt',
      job_uuid: fields.jobUuid,
      miner_hotkey: fields.minerHotkey,
      validator_hotkey: validator.ss58,
      timestamp: fields.timestamp ?? utcNowPydantic(),
      time_accepted: fields.timeAccepted,
      ttl: fields.ttl,
    },
    validator,
  );
}

/** The JobFinishedReceipt a validator sends at the end of a job (score 0 and no blocks on failure). */
export function createJobFinishedReceipt(
  fields: CommonFields & { timeStarted: string; timeTookUs: number; score: number | string; blockNumbers?: number[] },
  validator: Hotkey,
): Receipt<JobFinishedReceiptPayload> {
  return signReceipt(
    {
      receipt_type: 'JobFinishedReceipt',
      job_uuid: fields.jobUuid,
      miner_hotkey: fields.minerHotkey,
      validator_hotkey: validator.ss58,
      timestamp: fields.timestamp ?? utcNowPydantic(),
      time_started: fields.timeStarted,
      time_took_us: Math.round(fields.timeTookUs),
      score_str: typeof fields.score === 'string' ? fields.score : formatScore(fields.score),
      block_numbers: fields.blockNumbers ?? [],
    },
    validator,
  );
}
