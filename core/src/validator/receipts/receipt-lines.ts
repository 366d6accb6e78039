import type { Receipt } from '../../contracts/index.js';
import { verifySignatureSync } from '../../keys/index.js';
import { receiptSchema } from '../../protocol/receipt-schemas.js';
import { receiptBlob } from '../../protocol/receipts.js';
import type { CountersignedReceipt } from '../../protocol/receipt-pages.js';
import type { RefusedLineReason } from './errors.js';

/**
 * The longest line a receipt page may hold. A receipt is a few hundred bytes; the bound stops a
 * miner from making the validator buffer one endless line.
 */
export const MAX_RECEIPT_LINE_BYTES = 16 * 1024;

export type LineVerdict =
  | { readonly ok: true; readonly receipt: CountersignedReceipt }
  | { readonly ok: false; readonly reason: RefusedLineReason; readonly detail: string };

function refuse(reason: RefusedLineReason, detail: string): LineVerdict {
  return { ok: false, reason, detail };
}

/**
 * Checks one line of a miner's page: a receipt with both signatures, naming a miner hotkey that
 * the serving endpoint holds, signed by the validator it names and countersigned by that miner
 * hotkey (sr25519 over the Python-compatible blob). Synchronous, so it runs as well in a worker
 * thread; call `await cryptoReady()` first.
 */
export function checkReceiptLine(line: string, servedHotkeys: ReadonlySet<string>): LineVerdict {
  if (Buffer.byteLength(line) > MAX_RECEIPT_LINE_BYTES) return refuse('line_too_long', `line of ${Buffer.byteLength(line)} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return refuse('not_json', line.slice(0, 80));
  }
  const parsed = receiptSchema.safeParse(json);
  if (!parsed.success) return refuse('bad_shape', parsed.error.issues[0]?.message ?? 'not a receipt');
  const receipt = parsed.data as Receipt & { miner_signature: string };
  const { payload } = receipt;
  if (!servedHotkeys.has(payload.miner_hotkey)) return refuse('other_miner', `names miner ${payload.miner_hotkey}`);
  let blob: string;
  try {
    blob = receiptBlob(payload);
  } catch (error) {
    return refuse('bad_payload', (error as Error).message);
  }
  if (!verifySignatureSync(blob, receipt.validator_signature, payload.validator_hotkey)) {
    return refuse('bad_validator_signature', `${payload.receipt_type} ${payload.job_uuid} not signed by ${payload.validator_hotkey}`);
  }
  if (!verifySignatureSync(blob, receipt.miner_signature, payload.miner_hotkey)) {
    return refuse('bad_miner_signature', `${payload.receipt_type} ${payload.job_uuid} not countersigned by ${payload.miner_hotkey}`);
  }
  return { ok: true, receipt };
}

export function checkReceiptLines(lines: readonly string[], servedHotkeys: ReadonlySet<string>): LineVerdict[] {
  return lines.map((line) => checkReceiptLine(line, servedHotkeys));
}
