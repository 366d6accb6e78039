import { defineError } from '../../errors.js';

/** Why one line of a miner's receipt page was not stored. */
export type RefusedLineReason =
  /** Longer than any receipt can be (a page that never ends a line). */
  | 'line_too_long'
  /** Not JSON. */
  | 'not_json'
  /** JSON, but not a receipt with both signatures. */
  | 'bad_shape'
  /** Names a miner hotkey that the serving endpoint does not hold in the metagraph. */
  | 'other_miner'
  /** A payload no signature can be over (an unparsable datetime, an unknown type). */
  | 'bad_payload'
  | 'bad_validator_signature'
  | 'bad_miner_signature';

/**
 * A line of a receipt page was refused. Refusals are logged and counted, never thrown at the
 * validator: one bad line costs only itself.
 */
export class ReceiptLineRefusedError extends defineError('HORDE_RECEIPT_LINE_REFUSED') {
  constructor(
    readonly reason: RefusedLineReason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A receipt page could not be read to its end: HTTP error, redirect, timeout, too many bytes, a
 * broken gzip stream, a Range answer for other bytes. Lines already read before it are kept.
 */
export class ReceiptPageFetchError extends defineError('HORDE_RECEIPT_PAGE_FETCH_FAILED') {
  constructor(
    readonly url: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
