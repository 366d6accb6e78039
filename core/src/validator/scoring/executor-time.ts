import type {
  CycleFacts,
  JobAcceptedReceiptPayload,
  JobFinishedReceiptPayload,
  JobStartedReceiptPayload,
  Receipt,
} from '../../contracts/index.js';
import { datetimeToEpochMicros } from '../../protocol/datetime.js';

/**
 * Executor time spent on organic jobs, from signed receipts only, so that any validator holding
 * the same receipts (transferred from the miners' pages) computes the same seconds:
 * - a job counts once its validator signed a JobAcceptedReceipt (the miner took it; its ttl is the
 *   longest the job may hold the executor);
 * - it ran from its JobFinishedReceipt's `time_started` for `time_took_us`: the validator sends
 *   that receipt for every job it accepted, completed, failed or cancelled alike;
 * - a job with no finished receipt yet is running: it is counted up to `asOf`, never past its
 *   accepted receipt's ttl.
 * Each span is then cut at cycle windows, so a long job is credited cycle by cycle while it runs.
 */

/** The time one organic job held an executor, as its receipts prove it. */
export interface ExecutorTimeSpan {
  readonly jobUuid: string;
  readonly minerHotkey: string;
  readonly validatorHotkey: string;
  readonly executorClass: string;
  readonly fromMs: number;
  readonly toMs: number;
  /** A finished receipt closed the span; false while the job is (as far as receipts tell) running. */
  readonly ended: boolean;
}

const ms = (iso: string): number => {
  const micros = datetimeToEpochMicros(iso);
  return micros === null ? Number.NaN : Number(micros) / 1000;
};

function signed(receipt: Receipt, facts: CycleFacts): boolean {
  try {
    return facts.verifyValidatorSignature(receipt);
  } catch {
    return false;
  }
}

function firstByJob<P extends { job_uuid: string }>(
  receipts: readonly Receipt[],
  keep: (receipt: Receipt) => boolean,
): Map<string, Receipt & { payload: P }> {
  const map = new Map<string, Receipt & { payload: P }>();
  for (const receipt of receipts) {
    if (!map.has(receipt.payload.job_uuid) && keep(receipt)) map.set(receipt.payload.job_uuid, receipt as Receipt & { payload: P });
  }
  return map;
}

/**
 * Spans of the organic jobs of `trustedValidators` (validators whose receipts are believed; a
 * miner could otherwise register a validator of its own to sign jobs that never ran). Every
 * receipt's validator signature is checked here; transfer checked both signatures on arrival.
 */
export function executorTimeSpans(
  facts: CycleFacts,
  options: { readonly trustedValidators: ReadonlySet<string>; readonly asOf: number },
): ExecutorTimeSpan[] {
  const sameParties = (receipt: Receipt, started: JobStartedReceiptPayload) =>
    receipt.payload.validator_hotkey === started.validator_hotkey &&
    receipt.payload.miner_hotkey === started.miner_hotkey &&
    signed(receipt, facts);
  const started = firstByJob<JobStartedReceiptPayload>(facts.organicStartedReceipts, (r) => {
    const p = r.payload as JobStartedReceiptPayload;
    return p.is_organic && options.trustedValidators.has(p.validator_hotkey) && signed(r, facts);
  });
  const accepted = new Map<string, Receipt<JobAcceptedReceiptPayload>>();
  for (const receipt of facts.acceptedReceipts) {
    const start = started.get(receipt.payload.job_uuid);
    if (start && !accepted.has(receipt.payload.job_uuid) && sameParties(receipt, start.payload))
      accepted.set(receipt.payload.job_uuid, receipt);
  }
  const finished = new Map<string, Receipt<JobFinishedReceiptPayload>>();
  for (const receipt of facts.finishedReceipts) {
    const start = started.get(receipt.payload.job_uuid);
    if (start && !finished.has(receipt.payload.job_uuid) && sameParties(receipt, start.payload))
      finished.set(receipt.payload.job_uuid, receipt);
  }

  const spans: ExecutorTimeSpan[] = [];
  for (const [jobUuid, acceptance] of accepted) {
    const start = started.get(jobUuid)!.payload;
    const acceptedAt = ms(acceptance.payload.time_accepted);
    if (Number.isNaN(acceptedAt)) continue;
    const reservedUntil = acceptedAt + acceptance.payload.ttl * 1000;
    const end = finished.get(jobUuid)?.payload;
    let fromMs = acceptedAt;
    let toMs = Math.min(options.asOf, reservedUntil);
    if (end) {
      const ranFrom = ms(end.time_started);
      if (Number.isNaN(ranFrom) || !Number.isFinite(end.time_took_us)) continue;
      fromMs = Math.max(acceptedAt, ranFrom);
      toMs = Math.min(reservedUntil, ranFrom + Math.max(0, end.time_took_us) / 1000);
    }
    if (toMs <= fromMs) continue;
    spans.push({
      jobUuid,
      minerHotkey: start.miner_hotkey,
      validatorHotkey: start.validator_hotkey,
      executorClass: start.executor_class,
      fromMs,
      toMs,
      ended: end !== undefined,
    });
  }
  return spans;
}

/** Executor-seconds of `spans` that fall in `[fromMs, toMs)`: `miner → class → seconds`. */
export function executorSecondsIn(
  spans: readonly ExecutorTimeSpan[],
  window: { readonly fromMs: number; readonly toMs: number },
): Map<string, Map<string, number>> {
  const seconds = new Map<string, Map<string, number>>();
  for (const span of spans) {
    const overlap = Math.min(span.toMs, window.toMs) - Math.max(span.fromMs, window.fromMs);
    if (overlap <= 0) continue;
    const byClass = seconds.get(span.minerHotkey) ?? new Map<string, number>();
    byClass.set(span.executorClass, (byClass.get(span.executorClass) ?? 0) + overlap / 1000);
    seconds.set(span.minerHotkey, byClass);
  }
  return seconds;
}
