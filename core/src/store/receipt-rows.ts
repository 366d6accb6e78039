import type { ReceiptPayload } from '../contracts/index.js';
import type { CountersignedReceipt } from '../protocol/receipt-pages.js';
import { receiptTimestampMs } from '../protocol/receipt-pages.js';
import { fromJsonColumn, toJsonColumn } from './json.js';

/**
 * The columns a countersigned receipt is stored in, shared by the miner's own receipts
 * (`miner_receipts`) and the receipts a validator transferred from miners
 * (`validator_transferred_receipts`): both tables index the same facts of the payload and keep
 * the payload and both signatures verbatim, so a stored receipt can be served or verified again.
 */
export function receiptColumns(receipt: CountersignedReceipt) {
  const p = receipt.payload;
  const started = p.receipt_type === 'JobStartedReceipt' ? p : null;
  return {
    job_uuid: p.job_uuid,
    receipt_type: p.receipt_type,
    validator_hotkey: p.validator_hotkey,
    miner_hotkey: p.miner_hotkey,
    timestamp: receiptTimestampMs(p),
    executor_class: started?.executor_class ?? null,
    is_organic: started ? started.is_organic : null,
    payload: toJsonColumn(p),
    validator_signature: receipt.validator_signature,
    miner_signature: receipt.miner_signature,
  };
}

/** The stored columns a receipt is read back from. */
export interface StoredReceiptRow {
  payload: unknown;
  validator_signature: string;
  miner_signature: string;
}

export function receiptFromRow<P extends ReceiptPayload>(row: StoredReceiptRow): CountersignedReceipt<P> {
  return { payload: fromJsonColumn<P>(row.payload), validator_signature: row.validator_signature, miner_signature: row.miner_signature };
}
