import type { Receipt, ReceiptPayload } from '../contracts/index.js';
import { datetimeToEpochMicros } from './datetime.js';
import { ReceiptBlobError } from './receipts.js';

// The receipt pages a miner serves at /receipts/{page}.jsonl and validators download: the miner
// writes them, the validator reads them, so their format lives here, on the wire, not in either role.

/** Seconds of receipts per page file (ComputeHorde's `PAGE_TIME`). */
export const RECEIPT_PAGE_SECONDS = 300;

/** Page number holding receipts stored at `ms`: `floor(unix seconds / 300)`. */
export function receiptPageAt(ms: number): number {
  return Math.floor(ms / 1000 / RECEIPT_PAGE_SECONDS);
}

/** One JSONL line: the full receipt, compact, `payload` first (pydantic's `model_dump_json` shape). */
export function receiptLine(receipt: Receipt): string {
  return JSON.stringify({
    payload: receipt.payload,
    validator_signature: receipt.validator_signature,
    miner_signature: receipt.miner_signature,
  });
}

/** A receipt both parties signed (the only kind the miner stores). */
export type CountersignedReceipt<P extends ReceiptPayload = ReceiptPayload> = Receipt<P> & { miner_signature: string };

/** Receipt timestamps are pydantic datetimes (microseconds); milliseconds are enough to order and expire them. */
export function receiptTimestampMs(payload: ReceiptPayload): number {
  const micros = datetimeToEpochMicros(payload.timestamp);
  if (micros === null) throw new ReceiptBlobError(`receipt ${payload.job_uuid} has an unreadable timestamp: ${payload.timestamp}`);
  return Number(micros / 1000n);
}
