import type { Logger, ReceiptPayload } from '../../contracts/index.js';
import type { Hotkey } from '../../keys/index.js';
import { verifySignature } from '../../keys/verify.js';
import { receiptBlob } from '../../protocol/receipts.js';
import type { CountersignedReceipt, MinerReceiptsRepository } from '../store/receipts.js';
import type { ReceiptPages } from './pages.js';

export interface ReceiptServiceOptions {
  readonly repository: MinerReceiptsRepository;
  readonly pages: ReceiptPages;
  /** The miner's hotkeys by ss58: a receipt is countersigned by the hotkey it names. */
  readonly hotkeys: ReadonlyMap<string, Hotkey>;
  readonly logger: Logger;
  /** Called for each receipt stored (metrics). */
  readonly onStored?: (receipt: CountersignedReceipt) => void;
}

/** Who sent a receipt: the validator of the connection and the miner hotkey it authenticated to. */
export interface ReceiptSender {
  readonly validatorHotkey: string;
  readonly minerHotkey: string;
}

export type ReceiptRejection = 'wrong_miner_hotkey' | 'wrong_validator_hotkey' | 'bad_signature' | 'unknown_miner_hotkey';

export type ReceiptOutcome =
  | { readonly ok: true; readonly receipt: CountersignedReceipt; readonly duplicate: boolean }
  | { readonly ok: false; readonly rejection: ReceiptRejection };

/**
 * Takes the receipts a validator sends (job started, accepted, finished): checks they name this
 * connection's miner and validator hotkeys and carry the validator's valid signature, countersigns
 * with the miner hotkey, stores the row and appends the full receipt to the current page. A receipt
 * that fails a check is logged and dropped, as ComputeHorde's miner does; the job goes on.
 */
export class ReceiptService {
  constructor(private readonly options: ReceiptServiceOptions) {}

  async accept(payload: ReceiptPayload, validatorSignature: string, sender: ReceiptSender): Promise<ReceiptOutcome> {
    const checked = await this.countersign(payload, validatorSignature, sender);
    if (!checked.ok) return checked;
    const { receipt } = checked;
    const inserted = await this.options.repository.insert(receipt);
    if (!inserted) {
      this.logFor(payload, sender).info('receipt already stored; kept the first');
      const stored = await this.options.repository.get(payload.job_uuid, payload.receipt_type);
      return { ok: true, receipt: stored ?? receipt, duplicate: true };
    }
    await this.published(receipt, sender);
    return { ok: true, receipt, duplicate: false };
  }

  /**
   * The checks of `accept` and the countersignature, storing nothing: the caller stores the
   * receipt itself (in a transaction with other rows) and then calls `published`.
   */
  async countersign(
    payload: ReceiptPayload,
    validatorSignature: string,
    sender: ReceiptSender,
  ): Promise<{ readonly ok: true; readonly receipt: CountersignedReceipt } | { readonly ok: false; readonly rejection: ReceiptRejection }> {
    const reject = (rejection: ReceiptRejection, message: string) => {
      this.logFor(payload, sender).warn(
        { rejection, payloadMiner: payload.miner_hotkey, payloadValidator: payload.validator_hotkey },
        message,
      );
      return { ok: false, rejection } as const;
    };
    if (payload.miner_hotkey !== sender.minerHotkey) return reject('wrong_miner_hotkey', 'receipt names another miner hotkey; dropped');
    if (payload.validator_hotkey !== sender.validatorHotkey)
      return reject('wrong_validator_hotkey', 'receipt names another validator; dropped');
    const hotkey = this.options.hotkeys.get(payload.miner_hotkey);
    if (!hotkey) return reject('unknown_miner_hotkey', 'receipt names a hotkey this miner does not hold; dropped');
    // One serialisation of the payload for both the check and the countersignature (it is the
    // costliest step after the two sr25519 operations).
    let blob: string;
    try {
      blob = receiptBlob(payload);
    } catch {
      return reject('bad_signature', 'receipt payload cannot be serialised for its signature; dropped');
    }
    if (!(await verifySignature(blob, validatorSignature, payload.validator_hotkey))) {
      return reject('bad_signature', 'receipt validator signature does not verify; dropped');
    }
    const receipt: CountersignedReceipt = {
      payload,
      validator_signature: validatorSignature,
      miner_signature: hotkey.sign(blob),
    };
    return { ok: true, receipt };
  }

  /** A receipt whose row was just committed (not a duplicate): appended to the current page, counted. */
  async published(receipt: CountersignedReceipt, sender: ReceiptSender): Promise<void> {
    await this.options.pages.append([receipt]);
    this.options.onStored?.(receipt);
    this.logFor(receipt.payload, sender).info('receipt countersigned and stored');
  }

  private logFor(payload: ReceiptPayload, sender: ReceiptSender) {
    return this.options.logger.child({
      jobUuid: payload.job_uuid,
      receiptType: payload.receipt_type,
      validatorHotkey: sender.validatorHotkey,
      minerHotkey: sender.minerHotkey,
    });
  }
}
