/**
 * Receipt payloads as ComputeHorde v0.1 puts them on the wire and signs them. The validator signs
 * `json.dumps(payload, sort_keys=True)` of a payload; the miner countersigns the same bytes.
 * Timestamps are ISO-8601 strings with microseconds and `Z` (`2025-01-02T03:04:05.123456Z`).
 */
interface BaseReceiptPayload {
  job_uuid: string;
  miner_hotkey: string;
  validator_hotkey: string;
  timestamp: string;
}

export interface JobStartedReceiptPayload extends BaseReceiptPayload {
  receipt_type: 'JobStartedReceipt';
  executor_class: string;
  is_organic: boolean;
  /** Seconds after `timestamp` during which the receipt proves the executor busy. */
  ttl: number;
}

export interface JobAcceptedReceiptPayload extends BaseReceiptPayload {
  receipt_type: 'JobAcceptedReceipt';
  time_accepted: string;
  ttl: number;
}

export interface JobFinishedReceiptPayload extends BaseReceiptPayload {
  receipt_type: 'JobFinishedReceipt';
  time_started: string;
  time_took_us: number;
  /** Executor-seconds paid, formatted `%.6f`. */
  score_str: string;
  /** Allowance blocks the job was paid with. */
  block_numbers: number[];
}

export type ReceiptPayload = JobStartedReceiptPayload | JobAcceptedReceiptPayload | JobFinishedReceiptPayload;

/** A receipt with both signatures (`0x`-hex sr25519); `miner_signature` is null until countersigned. */
export interface Receipt<P extends ReceiptPayload = ReceiptPayload> {
  payload: P;
  validator_signature: string;
  miner_signature: string | null;
}
