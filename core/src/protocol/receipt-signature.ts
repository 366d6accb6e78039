import type { Receipt } from '../contracts/index.js';
import { verifySignatureSync } from '../keys/index.js';
import { receiptBlob } from './receipts.js';

/**
 * `CycleFacts.verifyValidatorSignature`: whether the validator named in the payload signed it.
 * Synchronous because scoring rules are; call `await cryptoReady()` once before scoring.
 */
export function verifyValidatorSignatureSync(receipt: Receipt): boolean {
  let blob: string;
  try {
    blob = receiptBlob(receipt.payload);
  } catch {
    return false;
  }
  return verifySignatureSync(blob, receipt.validator_signature, receipt.payload.validator_hotkey);
}
