import type { HardwareClass } from './hardware-class.js';
import type { Manifest } from './executor-manager.js';
import type { JobAcceptedReceiptPayload, JobFinishedReceiptPayload, JobStartedReceiptPayload, Receipt } from './receipt.js';

/** Points per miner hotkey per executor class: `table[hotkey][executorClass]`. */
export type ScoreTable = Readonly<Record<string, Readonly<Record<string, number>>>>;

export type JobOutcomeStatus = 'completed' | 'failed' | 'rejected' | 'horde_failed';

/** What happened to one job a validator sent in a cycle. */
export interface JobOutcome {
  readonly jobUuid: string;
  readonly minerHotkey: string;
  readonly executorClass: string;
  readonly kind: 'synthetic' | 'organic';
  readonly status: JobOutcomeStatus;
  /** For completed jobs: the verifier's judgement. Organic jobs are taken as correct unless cheated. */
  readonly correct?: boolean;
  readonly inTime?: boolean;
  readonly timeTookMs?: number;
  /**
   * Whether the miner accepted the job (`V0AcceptJobRequest`) before whatever happened next. A busy
   * rejection is excused only if accepted jobs plus valid excuses cover the declared executors.
   * When absent, `completed` and `failed` jobs count as accepted.
   */
  readonly accepted?: boolean;
  /** Organic jobs: executor-seconds the job was paid (allowance scoring). */
  readonly executorSeconds?: number;
  /** Organic jobs: allowance blocks the job was paid with (`block_numbers` of its finished receipt). */
  readonly paidWithBlocks?: readonly number[];
  /** Rejected jobs: the reason the miner gave and the excuse receipts it attached. */
  readonly rejection?: {
    readonly reason: string;
    readonly receipts: readonly Receipt[];
    /** When the validator checked the excuse (ms since epoch). */
    readonly checkedAt: number;
  };
}

export interface NeuronFact {
  readonly uid: number;
  readonly hotkey: string;
  readonly coldkey: string;
  /** Total stake (alpha + tao × TaoWeight) in whole units, not rao. */
  readonly stake: number;
  readonly validatorPermit: boolean;
}

/** Everything a rule may look at for one cycle. Built by the validator runtime; rules only read it. */
export interface CycleFacts {
  /** The cycle being scored: blocks `startBlock` (inclusive) to `endBlock` (exclusive). */
  readonly cycle: { readonly index: number; readonly startBlock: number; readonly endBlock: number };
  /**
   * The wall-clock time this cycle's scoring covers (ms): from when the previous cycle was scored
   * to when this one is. Consecutive cycles' windows meet without overlapping, so time-based rules
   * (executor time spent) credit every second once.
   */
  readonly window: { readonly fromMs: number; readonly toMs: number };
  readonly netuid: number;
  readonly validatorHotkey: string;
  readonly jobs: readonly JobOutcome[];
  /** Manifests the miners declared for this cycle's batch, by hotkey. */
  readonly manifests: Readonly<Record<string, Manifest>>;
  readonly neurons: readonly NeuronFact[];
  readonly hardwareClasses: readonly HardwareClass[];
  /**
   * Main hotkey each coldkey named for this cycle and for the previous one (dancing), by coldkey.
   * `verifiedDance` is what a dancing bonus may be paid on: the main hotkey changed, both hotkeys
   * are registered under this coldkey, and executors really moved from the previous main to the
   * new one (the manifests this validator recorded for both hotkeys, this cycle and the last). A
   * self-reported change with no movement is not a dance.
   */
  readonly mainHotkeys: Readonly<
    Record<string, { readonly current: string | null; readonly previous: string | null; readonly verifiedDance: boolean }>
  >;
  /**
   * Started receipts of organic jobs known to this validator: transferred from the miners' receipt
   * pages (every validator's, this one's included), both signatures verified on arrival, from the
   * cycle's batch back to `RECEIPT_LOOKBACK_MS` before it.
   */
  readonly organicStartedReceipts: readonly Receipt<JobStartedReceiptPayload>[];
  /**
   * Accepted receipts from the same transfer and window: a validator's signed statement that an
   * executor was reserved for its job for `ttl` seconds from `time_accepted` (the job's whole span).
   */
  readonly acceptedReceipts: readonly Receipt<JobAcceptedReceiptPayload>[];
  /** Finished receipts from the same transfer and window: when each job ended and how long it ran. */
  readonly finishedReceipts: readonly Receipt<JobFinishedReceiptPayload>[];
  /** Checks a receipt's validator signature (sr25519 over the Python-compatible JSON blob). */
  readonly verifyValidatorSignature: (receipt: Receipt) => boolean;
}

/**
 * One step of the validator's scoring pipeline. Rules run in the order the config lists them; each
 * gets the facts and the table the previous rule returned (the first gets an empty table) and
 * returns a new table. The runtime records what each rule changed, per hotkey, for
 * `horde validator scores`, and turns the final table into weights: each hotkey's points summed
 * over classes, normalised to sum to 1.
 *
 * Rules must be pure and deterministic: same facts and table in, same table out; no I/O, no clock,
 * no randomness that is not seeded from the facts. Never mutate the input table.
 */
export interface ScoringRule {
  /** Unique within a pipeline; the key under which its contribution is reported. */
  readonly name: string;
  apply(facts: CycleFacts, table: ScoreTable): ScoreTable;
}
