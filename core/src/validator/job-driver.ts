import type { Clock, GeneratedJob, HardwareClass, JobOutcomeStatus, JobResult, JobSpec, Logger, Receipt } from '../contracts/index.js';
import type { Hotkey } from '../keys/index.js';
import {
  createJobAcceptedReceipt,
  createJobFinishedReceipt,
  createJobStartedReceipt,
  datetimeFromEpochMicros,
  type ExecutorTiming,
} from '../protocol/index.js';
import { verifyStreamingReady } from '../protocol/streaming.js';
import { untilAborted } from './abortable.js';
import { BatchAbortedError, MinerProtocolError, MinerTimeoutError } from './errors.js';
import type { JobInbox, JobMessage, MinerConnection } from './miner-client.js';
import { checkMachineSpecs } from './spec-check.js';

/** Everything the validator keeps about one job once it is over. */
export interface JobRecord {
  readonly jobUuid: string;
  readonly cycle: number;
  readonly minerHotkey: string;
  readonly executorClass: string;
  readonly kind: 'synthetic' | 'organic';
  readonly generator: string | null;
  readonly description: string;
  readonly status: JobOutcomeStatus;
  /** The miner accepted (reserved an executor for) the job. */
  readonly accepted: boolean;
  readonly correct: boolean | null;
  readonly inTime: boolean | null;
  readonly timeTookMs: number | null;
  /** What happened, in words: the verdict, the failure or the rejection. */
  readonly details: string;
  readonly rejectionReason: string | null;
  /** Busy excuses the miner attached to a rejection. */
  readonly rejectionReceipts: readonly Receipt[];
  /** When the excuse was checked: the job's started-receipt time (ms since epoch). */
  readonly checkedAt: number | null;
  /** GPU UUIDs the executor reported with its result (empty: none reported, or no GPU). */
  readonly gpuUuids?: readonly string[];
  /** Why a failed or horde-failed job failed; null for every other status. */
  readonly failure: FailureRecord | null;
  /** Its status transitions in order, with times (at most `MAX_JOB_TRANSITIONS`); absent: none kept. */
  readonly history?: readonly JobTransition[];
}

/**
 * One status change of a job as the validator saw it: `sent` (initial request), then what the
 * miner reported (`accepted`, `executor_ready`, `volumes_ready`, `streaming_ready`,
 * `execution_done`, `result_received`) and the validator did (`job_sent`), and last the outcome
 * (`completed`, `failed`, `horde_failed`, `rejected`).
 */
export interface JobTransition {
  readonly status: string;
  /** ms since the epoch, the validator's clock. */
  readonly at: number;
  /** What came with it: a failure's reason and stage, a decline's reason, a verdict. */
  readonly detail: string | null;
}

/** Transitions kept per job: each status once, so a miner repeating messages cannot grow it. */
export const MAX_JOB_TRANSITIONS = 16;

const OUTCOMES: ReadonlySet<string> = new Set(['completed', 'failed', 'horde_failed', 'rejected']);

/** The transition each miner message stands for (messages not listed are no status change). */
const MESSAGE_TRANSITION: Partial<Record<JobMessage['message_type'], string>> = {
  V0AcceptJobRequest: 'accepted',
  V0ExecutorReadyRequest: 'executor_ready',
  V0VolumesReadyRequest: 'volumes_ready',
  V0StreamingJobReadyRequest: 'streaming_ready',
  V0ExecutionDoneRequest: 'execution_done',
  V0JobFinishedRequest: 'result_received',
};

/** Who noticed a job's failure: the miner or its executor (their failure message), or the validator itself. */
export type FailureSource = 'miner' | 'executor' | 'validator';

/**
 * Why a job failed, as the validator stores and shows it (`horde validator jobs --failed`, the
 * dashboard). `reason` is a short stable word: the miner's `reason` field (ComputeHorde's
 * JobFailureReason / HordeFailureReason) or one of the validator's own (`timeout`,
 * `connection_lost`, `aborted`, `not_started`, `protocol_error`); other checks add theirs.
 */
export interface FailureRecord {
  readonly source: FailureSource;
  readonly reason: string;
  /** The job stage it failed in (the miner's `stage`, or the validator's wait), or null when unknown. */
  readonly stage: string | null;
  readonly message: string;
}

/**
 * A job the validator runs on a miner. A synthetic job is a generator's `GeneratedJob`, whose
 * `verify` judges the result; an organic or trusted-miner job has no `verify`: its result is the
 * client's (or the generator's) to judge, and the run hands it back (`runAlone`).
 */
export type JobToDrive = Pick<GeneratedJob, 'spec' | 'description'> & { verify?: GeneratedJob['verify'] };

/** How a job run alone ended: its record, and the result the miner sent when it completed. */
export interface ValidatorJobEnd {
  readonly record: JobRecord;
  readonly result: JobResult | null;
}

export interface ValidatorJobLimits {
  /** Time to accept or decline (`reservation_time_limit`). */
  readonly reservationMs: number;
  /** Time after the spin-up for the executor to report ready. */
  readonly startupMs: number;
  /** Time past the job's own limits before the validator gives up. */
  readonly slackMs: number;
}

export interface ValidatorJobContext {
  readonly connection: MinerConnection;
  readonly validator: Hotkey;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly hardwareClass: HardwareClass;
  readonly cycle: number;
  readonly generator: string | null;
  readonly kind: 'synthetic' | 'organic';
  readonly limits: ValidatorJobLimits;
  /** Bounds how many verifications run at once across a batch (they may download from S3). */
  readonly verifyLimit?: <T>(task: () => Promise<T>) => Promise<T>;
  /**
   * ttl of the job-started receipt. Default: the synthetic rule (spin-up + the job's limits + 5 s,
   * within 5..300 s). Organic jobs use the reservation window, as ComputeHorde does.
   */
  readonly startedReceiptTtlSeconds?: number;
  /** Sees every message of the job as it arrives (organic routing relays them to the facilitator). */
  readonly onMessage?: (message: JobMessage) => void;
  /**
   * Ends the job at once when it aborts (the validator is shutting down): every wait fails, a
   * verification under way is no longer waited for, no finished receipt is sent, and the job ends
   * `horde_failed` with details starting `aborted`.
   */
  readonly signal?: AbortSignal;
  /**
   * Check the executor's reported machine specs against the class (`spec-check.ts`): a mismatch
   * makes the job wrong (`correct: false`) whatever its output. Synthetic batches turn it on.
   */
  readonly checkSpecs?: boolean;
  /**
   * What a passed job's finished receipt says it was paid (`score_str`): for organic jobs the
   * executor-seconds charged, as ComputeHorde signs it, so that other validators scoring by
   * allowance from transferred receipts see the real cost. Default 1 (a passed synthetic job).
   */
  readonly receiptScore?: number;
  /**
   * The details of a completed job that has no `verify` (default `result not verified`): it
   * counts as correct and in time, since the validator has no way to tell otherwise.
   */
  readonly unverifiedDetails?: string;
}

/**
 * The job without what only the miner needed (command, env, inline volume, script, upload
 * targets): kept after the job request is sent, so a batch of thousands of jobs does not hold
 * every payload until its end. The executor class and timing (deadlines, receipts) and the
 * generator's own object (its `verify` and whatever it keeps for it) stay.
 */
function withoutPayload(job: JobToDrive): JobToDrive {
  const { executorClass, image, dockerRunOptionsPreset, timing } = job.spec;
  return withSpec(job, { executorClass, image, dockerRunOptionsPreset, timing, command: [], env: {} });
}

/** The job without its inline volume, once the initial request carried it. */
function withoutVolume(job: JobToDrive): JobToDrive {
  const { volume: _sent, ...spec } = job.spec;
  return withSpec(job, spec);
}

/** The job with another spec: same prototype and own properties, so a generator's `verify` sees the `this` it was written for. */
function withSpec(job: JobToDrive, spec: JobSpec): JobToDrive {
  return Object.assign(Object.create(Object.getPrototypeOf(job) as object) as JobToDrive, job, { spec });
}

/**
 * The job's stage limits for the executor. `waitSeconds` is added to the leeway: the executor
 * starts counting when it reports ready, but a batch sends the job request only at the barrier,
 * when every executor of the batch is ready. An executor that is faster than its class's spin-up
 * waits there; without this its download limit would run out before the job request arrived.
 */
function executorTiming(spec: JobSpec, waitSeconds = 0): ExecutorTiming {
  const t = spec.timing;
  return {
    allowed_leeway: Math.ceil(t.allowedLeewaySeconds + waitSeconds),
    download_time_limit: Math.ceil(t.downloadTimeLimitSeconds),
    execution_time_limit: Math.ceil(t.executionTimeLimitSeconds),
    upload_time_limit: Math.ceil(t.uploadTimeLimitSeconds),
    streaming_start_time_limit: Math.ceil(t.streamingStartTimeLimitSeconds),
  };
}

/** Seconds from the job request to the last stage's deadline. */
export function jobSeconds(spec: JobSpec): number {
  const t = spec.timing;
  return (
    t.allowedLeewaySeconds +
    t.downloadTimeLimitSeconds +
    t.executionTimeLimitSeconds +
    t.uploadTimeLimitSeconds +
    t.streamingStartTimeLimitSeconds
  );
}

/** A hardware class for one the validator has no plugin for: no spin-up beyond the startup limit. */
export function fallbackHardwareClass(spec: JobSpec): HardwareClass {
  return {
    id: spec.executorClass,
    description: spec.executorClass,
    spinUpSeconds: 0,
    shortCode: '?',
    resources: {},
    dockerPreset: spec.dockerRunOptionsPreset,
    proof: { jobGenerators: [], maxJobSeconds: jobSeconds(spec) },
  };
}

/** The class of the job's executor among those the validator knows, else `fallbackHardwareClass`. */
export function hardwareClassOf(spec: JobSpec, known: readonly HardwareClass[]): HardwareClass {
  return known.find((hardwareClass) => hardwareClass.id === spec.executorClass) ?? fallbackHardwareClass(spec);
}

function validatorFailure(reason: string, stage: string | null, message: string): FailureRecord {
  return { source: 'validator', reason, stage, message };
}

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));

/**
 * Drives one job through the v0.1 protocol, split so a batch can hold every job at the barrier:
 * `reserve` (initial request with a signed started receipt → accept/decline → accepted receipt →
 * executor ready), then `sendJob` (the job request) for all jobs at once, then `collect` (result
 * → verify → finished receipt). Every wait is bounded; any failure ends the job with a status
 * instead of throwing.
 */
export class ValidatorJobDriver {
  private readonly inbox: JobInbox;
  private readonly log: Logger;
  private status: JobOutcomeStatus | null = null;
  private accepted = false;
  private ready = false;
  private correct: boolean | null = null;
  private inTime: boolean | null = null;
  private timeTookMs: number | null = null;
  private details = '';
  private rejectionReason: string | null = null;
  private rejectionReceipts: readonly Receipt[] = [];
  private failure: FailureRecord | null = null;
  private readonly transitions: JobTransition[] = [];
  private startedAtMs = 0;
  private jobSentAtMs = 0;
  /** The `specs` of the executor's `V0MachineSpecsRequest`, when it sent one. */
  private reportedSpecs: Record<string, unknown> | null = null;
  private gpuUuids: readonly string[] = [];
  /** The job; its payload is dropped once sent (`withoutPayload`). */
  private job: JobToDrive;
  private readonly onAbort: (() => void) | null = null;
  /** The job is a streaming job (its spec's `streamingPublicKey`, kept past `withoutPayload`). */
  private readonly streaming: boolean;
  private streamingReady = false;

  constructor(
    readonly jobUuid: string,
    job: JobToDrive,
    private readonly ctx: ValidatorJobContext,
  ) {
    this.job = job;
    this.streaming = job.spec.streamingPublicKey !== undefined;
    this.inbox = ctx.connection.openInbox(jobUuid);
    this.log = ctx.logger.child({ jobUuid, minerHotkey: ctx.connection.target.hotkey, executorClass: ctx.hardwareClass.id });
    if (ctx.signal) {
      this.onAbort = () => this.inbox.close(new BatchAbortedError('aborted: the validator is shutting down'));
      if (ctx.signal.aborted) this.onAbort();
      else ctx.signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  private get aborted(): boolean {
    return this.ctx.signal?.aborted ?? false;
  }

  /** The job is over for this driver: no more waits, nothing more to send from its payload. */
  private release(): void {
    if (this.onAbort) this.ctx.signal?.removeEventListener('abort', this.onAbort);
    this.ctx.connection.closeInbox(this.jobUuid);
    this.job = withoutPayload(this.job);
  }

  /**
   * The longest an executor of this job can wait between reporting ready and the job request: a
   * batch sends its initial requests staggered so that every class is due ready at the same time,
   * so the barrier comes at the latest this class's spin-up plus the accept and startup windows
   * after this job's initial request. Organic jobs have no barrier: their request follows ready.
   */
  private get barrierWaitSeconds(): number {
    const { hardwareClass, limits, kind } = this.ctx;
    if (kind !== 'synthetic') return 0;
    return hardwareClass.spinUpSeconds + (limits.reservationMs + limits.startupMs) / 1000;
  }

  get hardwareClassSpinUp(): number {
    return this.ctx.hardwareClass.spinUpSeconds;
  }

  get minerHotkey(): string {
    return this.ctx.connection.target.hotkey;
  }

  get isReady(): boolean {
    return this.ready && this.status === null;
  }

  get isOver(): boolean {
    return this.status !== null;
  }

  private end(status: JobOutcomeStatus, details: string, failure: FailureRecord | null = null): void {
    if (this.status !== null) return;
    this.status = status;
    this.details = details;
    this.failure = failure;
    this.mark(status, this.outcomeDetail(status, failure));
  }

  /** Records a status change, each status once; the last place is kept for the outcome. */
  private mark(status: string, detail: string | null = null, at = this.ctx.clock.now()): void {
    if (this.transitions.some((t) => t.status === status)) return;
    const isOutcome = OUTCOMES.has(status);
    if (this.transitions.length >= MAX_JOB_TRANSITIONS - (isOutcome ? 0 : 1)) return;
    this.transitions.push({ status, at, detail: detail === null ? null : detail.slice(0, 300) });
  }

  private outcomeDetail(status: JobOutcomeStatus, failure: FailureRecord | null): string | null {
    if (failure) return `${failure.reason}${failure.stage ? ` · ${failure.stage}` : ''} (by the ${failure.source})`;
    if (status === 'rejected') return this.rejectionReason;
    if (status === 'completed')
      return this.correct === false ? 'wrong' : this.inTime === false ? 'late' : this.correct === true ? 'correct' : null;
    return null;
  }

  /** A miner message's status change, if it is one. */
  private seen(message: JobMessage): void {
    const status = MESSAGE_TRANSITION[message.message_type];
    if (status) this.mark(status);
  }

  /** Maps a failure message to an end state; returns false for messages that do not end the job. */
  private endOnFailure(message: JobMessage): boolean {
    switch (message.message_type) {
      case 'V0JobFailedRequest':
        this.end('failed', `job failed (${message.reason}, ${message.stage}): ${message.message}`.trim(), {
          source: 'executor',
          reason: message.reason,
          stage: message.stage,
          message: message.message,
        });
        return true;
      case 'V0HordeFailedRequest':
        this.end('horde_failed', `horde failure (${message.reason}, by ${message.reported_by}): ${message.message}`.trim(), {
          source: message.reported_by === 'executor' ? 'executor' : message.reported_by === 'validator' ? 'validator' : 'miner',
          reason: message.reason,
          stage: typeof message.context?.['stage'] === 'string' ? message.context['stage'] : null,
          message: message.message,
        });
        return true;
      case 'V0DeclineJobRequest':
        this.rejectionReason = message.reason;
        this.rejectionReceipts = message.reason === 'busy' ? message.receipts : [];
        this.end(
          'rejected',
          `declined (${message.reason}) with ${message.receipts.length} receipts${message.message ? `: ${message.message}` : ''}`,
        );
        return true;
      default:
        return false;
    }
  }

  private async waitUntil(deadlineMs: number, what: string, done: (message: JobMessage) => boolean): Promise<void> {
    for (;;) {
      const message = await this.inbox.next(deadlineMs - this.ctx.clock.now(), what);
      // The client will trust this address and certificate: only the miner's signature makes them
      // the miner's word (the facilitator never sees an unsigned or forged one).
      if (message.message_type === 'V0StreamingJobReadyRequest') {
        if (!(await this.acceptStreamingReady(message))) return;
      }
      this.ctx.onMessage?.(message);
      this.seen(message);
      if (this.endOnFailure(message) || done(message)) return;
    }
  }

  /** Checks a streaming-ready report; ends the job `streaming_failed` when it is not the miner's or not expected. */
  private async acceptStreamingReady(message: Extract<JobMessage, { message_type: 'V0StreamingJobReadyRequest' }>): Promise<boolean> {
    let problem: string | null = null;
    if (!this.streaming) problem = 'the miner reported streaming ready for a job that is not a streaming job';
    else if (this.streamingReady) problem = 'the miner reported streaming ready twice';
    else if (!(await verifyStreamingReady(message, this.minerHotkey))) problem = 'the streaming details are not signed by the miner';
    if (problem === null) {
      this.streamingReady = true;
      return true;
    }
    this.log.warn({ ip: message.ip ?? null, port: message.port }, problem);
    this.end('horde_failed', `streaming: ${problem}`, validatorFailure('streaming_failed', 'streaming_startup', problem));
    return false;
  }

  private failOnError(error: unknown, stage: string): void {
    const message = (error as Error).message;
    if (this.aborted)
      this.end(
        'horde_failed',
        `aborted while ${stage}: the validator is shutting down`,
        validatorFailure('aborted', stage, 'the validator is shutting down'),
      );
    else if (error instanceof MinerTimeoutError)
      this.end('horde_failed', `${stage}: ${message}`, validatorFailure('timeout', stage, message));
    else if (error instanceof MinerProtocolError)
      this.end('horde_failed', `${stage}: ${message}`, validatorFailure('protocol_error', stage, message));
    else this.end('horde_failed', `${stage}: ${message}`, validatorFailure('connection_lost', stage, message));
  }

  /** Initial request up to executor ready. Resolves true when the job can be sent. */
  async reserve(): Promise<boolean> {
    const { spec } = this.job;
    const { connection, validator, clock, hardwareClass, limits } = this.ctx;
    this.startedAtMs = clock.now();
    const started = createJobStartedReceipt(
      {
        jobUuid: this.jobUuid,
        minerHotkey: this.minerHotkey,
        timestamp: datetimeFromEpochMicros(this.startedAtMs * 1000),
        executorClass: spec.executorClass,
        isOrganic: this.ctx.kind === 'organic',
        // ComputeHorde's synthetic rule: the executor is busy from spin-up to the job's end.
        ttl: this.ctx.startedReceiptTtlSeconds ?? Math.round(clamp(hardwareClass.spinUpSeconds + jobSeconds(spec) + 5, 5, 300)),
      },
      validator,
    );
    try {
      connection.send({
        message_type: 'V0InitialJobRequest',
        job_uuid: this.jobUuid,
        executor_class: spec.executorClass,
        docker_image: spec.image,
        volume: spec.volumeInInitialRequest ? (spec.volume ?? null) : null,
        // The miner fills in executor_ip (where the executor is reachable) before passing it on.
        streaming_details: spec.streamingPublicKey !== undefined ? { public_key: spec.streamingPublicKey, executor_ip: null } : null,
        job_started_receipt_payload: started.payload,
        job_started_receipt_signature: started.validator_signature,
        executor_timing: executorTiming(spec, this.barrierWaitSeconds),
      });
      this.mark('sent', null, this.startedAtMs);
      if (spec.volumeInInitialRequest && spec.volume) this.job = withoutVolume(this.job);
      await this.waitUntil(this.startedAtMs + limits.reservationMs, 'accept or decline', (message) => {
        if (message.message_type === 'V0AcceptJobRequest') this.accepted = true;
        // A miner may skip the accept and report ready straight away.
        if (message.message_type === 'V0ExecutorReadyRequest') this.accepted = this.ready = true;
        return this.accepted;
      });
      if (this.status !== null) return false;

      const acceptedAt = clock.now();
      const accepted = createJobAcceptedReceipt(
        {
          jobUuid: this.jobUuid,
          minerHotkey: this.minerHotkey,
          timestamp: datetimeFromEpochMicros(acceptedAt * 1000),
          timeAccepted: datetimeFromEpochMicros(acceptedAt * 1000),
          ttl: Math.round(hardwareClass.spinUpSeconds + limits.startupMs / 1000 + jobSeconds(spec)),
        },
        validator,
      );
      connection.send({ message_type: 'V0JobAcceptedReceiptRequest', payload: accepted.payload, signature: accepted.validator_signature });
      if (!this.ready) {
        await this.waitUntil(acceptedAt + hardwareClass.spinUpSeconds * 1000 + limits.startupMs, 'executor ready', (message) => {
          if (message.message_type === 'V0ExecutorReadyRequest') this.ready = true;
          return this.ready;
        });
      }
      return this.isReady;
    } catch (error) {
      this.failOnError(error, this.accepted ? 'waiting for the executor' : 'waiting for accept');
      return false;
    }
  }

  /** Sends the job request; `collect` then waits for the result. */
  sendJob(): void {
    if (!this.isReady) return;
    // The executor may have failed while the batch waited at the barrier: then its failure is the
    // job's outcome, and a job request would only earn "unknown job_uuid" from the miner.
    for (let message = this.inbox.poll(); message; message = this.inbox.poll()) {
      if (message.message_type === 'V0StreamingJobReadyRequest') {
        // No executor streams a job it has not been sent: whatever this points the client at, it is not the job.
        const problem = 'the miner reported streaming ready before the job request';
        this.log.warn({ ip: message.ip ?? null, port: message.port }, problem);
        this.end('horde_failed', `streaming: ${problem}`, validatorFailure('streaming_failed', 'streaming_startup', problem));
        return;
      }
      this.ctx.onMessage?.(message);
      this.seen(message);
      if (this.endOnFailure(message)) {
        this.log.warn({ status: this.status, details: this.details }, 'the executor failed while waiting for the job request; not sent');
        return;
      }
    }
    const { spec } = this.job;
    this.jobSentAtMs = this.ctx.clock.now();
    try {
      this.ctx.connection.send({
        message_type: 'V0JobRequest',
        job_uuid: this.jobUuid,
        executor_class: spec.executorClass,
        docker_image: spec.image,
        raw_script: spec.rawScript ?? null,
        docker_run_options_preset: spec.dockerRunOptionsPreset,
        docker_run_cmd: spec.command,
        env: spec.env,
        volume: spec.volumeInInitialRequest ? null : (spec.volume ?? null),
        output_upload: spec.outputUpload ?? null,
        artifacts_dir: spec.artifactsDir ?? null,
      });
      this.mark('job_sent', null, this.jobSentAtMs);
    } catch (error) {
      this.failOnError(error, 'sending the job');
    }
    this.job = withoutPayload(this.job);
  }

  /**
   * Waits for the result and judges it (`verify`, when the job has one); resolves to the result
   * when the job completed, else null.
   */
  async collect(): Promise<JobResult | null> {
    let result: JobResult | null = null;
    if (this.status === null && this.jobSentAtMs > 0) {
      const deadline = this.jobSentAtMs + jobSeconds(this.job.spec) * 1000 + this.ctx.limits.slackMs;
      if (this.streaming) await this.awaitStreamingReady();
      if (this.status === null)
        try {
          let finished: Extract<JobMessage, { message_type: 'V0JobFinishedRequest' }> | null = null;
          await this.waitUntil(deadline, 'job result', (message) => {
            if (message.message_type === 'V0MachineSpecsRequest') this.reportedSpecs = message.specs.specs;
            if (message.message_type !== 'V0JobFinishedRequest') return false;
            finished = message;
            return true;
          });
          if (finished !== null) result = await this.judge(finished);
        } catch (error) {
          this.failOnError(error, 'waiting for the result');
        }
    }
    if (this.status !== 'completed' || this.correct !== true || this.inTime !== true) {
      // What really went wrong, on the job's own line (the miner's generic errors carry no job).
      this.log.warn({ status: this.status, correct: this.correct, inTime: this.inTime, details: this.details }, 'job did not pass');
    }
    // A job cut short by the validator's shutdown gets no verdict from it, so no finished receipt.
    if (!this.aborted) this.sendFinishedReceipt();
    this.release();
    return this.status === 'completed' ? result : null;
  }

  /**
   * A job on its own, with no batch barrier (organic jobs, the trusted miner): reserve, send at
   * once when ready, collect. Resolves to its record and, when it completed, its result.
   */
  async runAlone(): Promise<ValidatorJobEnd> {
    if (await this.reserve()) this.sendJob();
    const result = await this.collect();
    return { record: this.record(), result };
  }

  /**
   * ComputeHorde's streaming stage: the deadline is the leeway, extended by the download limit
   * and then by the streaming-start limit, all from the job request; missing it is
   * `streaming_job_ready_timed_out`.
   */
  private async awaitStreamingReady(): Promise<void> {
    const t = this.job.spec.timing;
    const deadline = this.jobSentAtMs + (t.allowedLeewaySeconds + t.downloadTimeLimitSeconds + t.streamingStartTimeLimitSeconds) * 1000;
    try {
      await this.waitUntil(deadline, 'streaming ready', (message) => {
        if (message.message_type === 'V0MachineSpecsRequest') this.reportedSpecs = message.specs.specs;
        return this.streamingReady;
      });
    } catch (error) {
      if (error instanceof MinerTimeoutError && !this.aborted) {
        const message = `the job's streaming server was not ready within ${t.streamingStartTimeLimitSeconds} s (streaming_start_time_limit)`;
        this.end('horde_failed', `streaming: ${message}`, validatorFailure('streaming_job_ready_timed_out', 'streaming_startup', message));
      } else this.failOnError(error, 'waiting for streaming');
    }
  }

  /** The job's verdict on `finished` (the job's `verify`, or none: taken as it came); returns the result. */
  private async judge(finished: Extract<JobMessage, { message_type: 'V0JobFinishedRequest' }>): Promise<JobResult> {
    this.timeTookMs = this.ctx.clock.now() - this.jobSentAtMs;
    const limit = this.ctx.verifyLimit ?? (<T>(task: () => Promise<T>) => task());
    const job = this.job;
    const result: JobResult = {
      stdout: finished.docker_process_stdout,
      stderr: finished.docker_process_stderr,
      artifacts: finished.artifacts ?? {},
      uploadResults: finished.upload_results ?? {},
      timeTookMs: this.timeTookMs ?? 0,
    };
    const unverified = { correct: true, inTime: true, details: this.ctx.unverifiedDetails ?? 'result not verified' };
    try {
      const verdict = await untilAborted(
        limit(async () => {
          // Queued behind other verifications when the validator began shutting down: skip it.
          if (this.aborted) throw new BatchAbortedError();
          return job.verify ? await job.verify(result) : unverified;
        }),
        this.ctx.signal,
      );
      const mismatch = this.specMismatch();
      this.correct = verdict.correct && mismatch === null;
      this.inTime = verdict.inTime;
      this.end('completed', mismatch === null ? verdict.details : `${mismatch}; ${verdict.details}`);
    } catch (error) {
      if (error instanceof BatchAbortedError) {
        this.end(
          'horde_failed',
          'aborted while verifying: the validator is shutting down',
          validatorFailure('aborted', 'verifying', 'the validator is shutting down'),
        );
        return result;
      }
      // Verifiers must not throw for bad output; one that does is a validator-side problem.
      this.log.error({ err: error }, 'verifier threw');
      this.correct = false;
      this.inTime = false;
      this.end('completed', `verifier error: ${(error as Error).message}`);
    }
    return result;
  }

  /** `spec mismatch: …` when the reported specs do not meet the class, else null. Records the GPU UUIDs either way. */
  private specMismatch(): string | null {
    const check = checkMachineSpecs(this.ctx.hardwareClass, this.reportedSpecs);
    this.gpuUuids = check.gpuUuids;
    if (!this.ctx.checkSpecs || check.problems.length === 0) return null;
    const reason = `spec mismatch: ${check.problems.join('; ')}`;
    this.log.warn({ problems: check.problems }, 'executor specs do not meet its class; job counted as wrong');
    return reason;
  }

  private sendFinishedReceipt(): void {
    if (!this.accepted) return;
    const now = this.ctx.clock.now();
    const sentAt = this.jobSentAtMs || now;
    const passed = this.status === 'completed' && this.correct === true && this.inTime === true;
    try {
      const receipt = createJobFinishedReceipt(
        {
          jobUuid: this.jobUuid,
          minerHotkey: this.minerHotkey,
          timestamp: datetimeFromEpochMicros(now * 1000),
          timeStarted: datetimeFromEpochMicros(sentAt * 1000),
          timeTookUs: (this.timeTookMs ?? now - sentAt) * 1000,
          score: passed ? (this.ctx.receiptScore ?? 1) : 0,
        },
        this.ctx.validator,
      );
      this.ctx.connection.send({
        message_type: 'V0JobFinishedReceiptRequest',
        payload: receipt.payload,
        signature: receipt.validator_signature,
      });
    } catch (error) {
      this.log.debug({ err: error }, 'could not send the finished receipt');
    }
  }

  /** Marks a job that never got going (its miner could not be reached, its generator failed). */
  abandon(reason: string, failureReason: string = this.aborted ? 'aborted' : 'not_started'): void {
    this.end('horde_failed', reason, validatorFailure(failureReason, null, reason));
    this.release();
  }

  record(): JobRecord {
    // A job that never reached an outcome is stored as horde_failed: its history says so too.
    if (this.status === null) this.mark('horde_failed', this.details || 'did not finish');
    return {
      jobUuid: this.jobUuid,
      cycle: this.ctx.cycle,
      minerHotkey: this.minerHotkey,
      executorClass: this.job.spec.executorClass,
      kind: this.ctx.kind,
      generator: this.ctx.generator,
      description: this.job.description,
      status: this.status ?? 'horde_failed',
      accepted: this.accepted,
      correct: this.correct,
      inTime: this.inTime,
      timeTookMs: this.timeTookMs,
      details: this.details || 'did not finish',
      rejectionReason: this.rejectionReason,
      rejectionReceipts: this.rejectionReceipts,
      checkedAt: this.status === 'rejected' ? this.startedAtMs : null,
      gpuUuids: this.gpuUuids,
      failure:
        this.status === 'failed' || this.status === 'horde_failed' || this.status === null
          ? (this.failure ?? validatorFailure('unknown', null, this.details || 'did not finish'))
          : null,
      history: [...this.transitions],
    };
  }
}
