import { randomUUID } from 'node:crypto';
import type {
  CapacityClaimant,
  CapacityPolicy,
  CapacityRequest,
  Clock,
  ExecutorLaunch,
  ExecutorManager,
  Logger,
} from '../../contracts/index.js';
import type { Hotkey } from '../../keys/index.js';
import type { HordeFailureReason } from '../../protocol/enums.js';
import type {
  ExecutorToMinerMessage,
  MinerToValidatorMessage,
  V0HordeFailedRequest,
  V0InitialJobRequest,
  V0JobRequest,
} from '../../protocol/messages.js';
import { signStreamingReady } from '../../protocol/streaming.js';
import { AllExecutorsBusyError, PoolChangedError } from '../errors.js';
import type { MinerMetrics } from '../metrics.js';
import type { ExecutorGoneEvent, ExecutorPool } from '../pool/executor-pool.js';
import type { ReceiptService } from '../receipts/receipt-service.js';
import {
  receiptTimestampMs,
  type CountersignedReceipt,
  type MinerJobStatus,
  type MinerJobUpdate,
  type MinerStore,
} from '../store/index.js';
import { withRetries } from '../../time/retry.js';
import { TIMER_NOT_NEEDED } from '../../time/clock.js';
import { withoutInlineVolumes } from './stored-details.js';

/** 250 ms growing by half each time: about 18 minutes of retries before a status write gives up. */
const STATUS_WRITE_ATTEMPTS = 20;
import type { ActiveJob, ExecutorPeer, ValidatorPeer } from './active-job.js';

export interface JobHubOptions {
  readonly store: MinerStore;
  readonly pool: ExecutorPool;
  /** Who gets a free executor when validators compete (default policy: stake-proportional). */
  readonly capacityPolicy: CapacityPolicy;
  /** The validators' stakes from the metagraph, in the order given (0 when unknown; one read for all). */
  readonly stakesOf: (validatorHotkeys: readonly string[]) => Promise<readonly number[]>;
  readonly manager: ExecutorManager;
  /** Null in local mode: the trusted miner keeps no receipts (as ComputeHorde's `IS_LOCAL_MINER`). */
  readonly receipts: ReceiptService | null;
  /** The miner's hotkeys by ss58 (streaming-ready signatures). */
  readonly hotkeys: ReadonlyMap<string, Hotkey>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: MinerMetrics;
  /** ws:// base URL executors connect back to (known once the server listens). */
  readonly executorAddress: () => string;
  /** The command line and environment that start an executor agent for `token`. */
  readonly launch: (token: string) => ExecutorLaunch;
  /** Spin-up seconds of a class (its hardware class, or the configured default). */
  readonly spinUpSeconds: (executorClass: string) => number;
  /** The executor's startup limit; with the spin-up it bounds the wait for the executor to connect. */
  readonly startupTimeLimitSeconds: number;
  /**
   * How long a request with no executor for it waits at the miner before it is declined `busy`
   * (`miner.capacityWaitSeconds`); 0 declines at once. While it waits, every executor that frees
   * up goes to the waiting request the capacity policy ranks first.
   */
  readonly capacityWaitMs: number;
}

/**
 * A connected validator that was declined an executor of a class this recently still competes
 * for it: the capacity policy keeps its share free for it. One that was not declined, or left,
 * does not hold capacity back from the others.
 */
const UNMET_DEMAND_WINDOW_MS = 10_000;

/**
 * Capacity decisions one request may make while executors keep freeing under it (each a store-free
 * look at the pool); past that it counts as busy and waits for an offer like any other.
 */
const MAX_ADMISSION_ATTEMPTS = 5;

/** What one admission attempt came to: an executor reserved, or why not. */
type Admission =
  | { kind: 'refused'; reason: string }
  | { kind: 'busy'; reason: string }
  | { kind: 'failed'; error: unknown }
  | { kind: 'reserved'; started: Promise<unknown> };

/** A new request's place in arrival order (`JobHub.takeTurn`): used once, or passed. */
interface AdmissionTurn {
  /** Queues `step` for admission once every earlier arrival queued its own; later arrivals wait for that. */
  run<T>(step: () => Promise<T>): Promise<T>;
  /** Gives the turn up unused (the request ended before its admission); no-op after `run`. */
  pass(): void;
}

/**
 * A request with no executor for it yet, held at the miner for a moment (`capacityWaitMs`) so
 * that an executor freed meanwhile goes to a request that is already here, chosen by the capacity
 * policy, instead of to whichever validator's next request lands first.
 */
interface Waiter {
  readonly peer: ValidatorPeer;
  readonly executorClass: string;
  readonly since: number;
  /** One admission attempt (policy + reservation); run inside the admission queue only. */
  readonly tryAdmit: () => Promise<Admission>;
  /** Ends the wait with this outcome (the reservation, or the last refusal at the deadline). */
  readonly settle: (admission: Admission) => void;
  /** Why it was last turned away: the decline it gets when the wait runs out. */
  last: Admission;
  /** An admission attempt for it is under way (`offerFreed`): the deadline leaves the outcome to it. */
  offering: boolean;
  /** The deadline passed during an attempt: if that attempt fails too, the wait ends. */
  expired: boolean;
}

/** Results no validator came back for are dropped from memory after a day (the original gives up then too). */
const UNDELIVERED_RESULT_TTL_MS = 24 * 3600_000;

/**
 * The miner's switchboard between validator and executor connections (what ComputeHorde does with
 * Django Channels groups keyed by the executor token):
 *
 *  - an initial job request reserves an executor slot and is accepted at once (or declined `busy`
 *    with excuse receipts), the executor starts in the background with a single-use token;
 *  - the executor connecting with the token gets the stored initial request, then the job request;
 *  - executor messages go to the validator (token stripped), finals end the job;
 *  - an executor that never connects, dies, or drops its connection mid-job is reported as a horde
 *    failure right away;
 *  - a validator that reconnects gets its jobs back: undelivered messages are sent, and a job
 *    waiting for its payload is announced ready again.
 */
export class JobHub {
  private readonly jobs = new Map<string, ActiveJob>();
  private readonly byToken = new Map<string, ActiveJob>();
  private readonly peers = new Set<ValidatorPeer>();
  /** Failures being recorded by `failSoon` (awaited by `drain`). */
  private readonly failing = new Set<Promise<void>>();
  /** Tail of the admission queue (capacity decision + reservation, one at a time); never rejects. */
  private admission: Promise<void> = Promise.resolve();
  /** Tail of the new requests' arrival order (`takeTurn`); never rejects. */
  private arrivals: Promise<void> = Promise.resolve();
  /** When each validator was last declined an executor, by class: its unmet demand. */
  private readonly declinedAt = new Map<string, Map<string, number>>();
  /** Requests waiting for an executor, oldest first. */
  private readonly waiters = new Set<Waiter>();
  /** Answers to requests that waited, being sent (awaited by `drain`). */
  private readonly answering = new Set<Promise<void>>();
  /** Status writes on their way (`setStatus`, `writeInBackground`), waited for by `drain`. */
  private readonly recording = new Set<Promise<void>>();
  private readonly log: Logger;
  /** Stops the background retries of status writes when the miner stops. */
  private readonly closing = new AbortController();

  constructor(private readonly options: JobHubOptions) {
    this.log = options.logger;
  }

  /** Open validator connections (metrics). */
  get connectionCount(): number {
    return this.peers.size;
  }

  /** Hotkeys of the validators connected now, one entry per connection (the dashboard). */
  connectedValidators(): string[] {
    return [...this.peers].map((peer) => peer.validatorHotkey);
  }

  /** Jobs in memory (in progress, or ended with a result still to deliver). */
  activeJobs(): readonly ActiveJob[] {
    return [...this.jobs.values()];
  }

  peerOpened(peer: ValidatorPeer): void {
    this.peers.add(peer);
  }

  peerClosed(peer: ValidatorPeer): void {
    this.peers.delete(peer);
    for (const job of this.jobs.values()) if (job.owner === peer) job.owner = null;
  }

  /**
   * A validator connection authenticated: it takes over every job of that validator whose own
   * connection is gone, receives what was not delivered and, for jobs whose executor is ready and
   * waiting for the job request, `V0ExecutorReadyRequest` again.
   */
  attach(peer: ValidatorPeer): void {
    for (const job of this.jobs.values()) {
      if (job.validatorHotkey !== peer.validatorHotkey || job.owner?.isReady()) continue;
      job.owner = peer;
      this.log.info(
        { jobUuid: job.jobUuid, validatorHotkey: peer.validatorHotkey, undelivered: job.outbox.length },
        'validator re-attached to job',
      );
      // The connection that heard "ready" is gone; the new one must hear it to send the job request.
      if (job.status === 'waiting_for_payload' && !job.outbox.some((m) => m.message_type === 'V0ExecutorReadyRequest')) {
        job.outbox.push({ message_type: 'V0ExecutorReadyRequest', job_uuid: job.jobUuid, executor_token: null });
      }
      this.flush(job);
    }
  }

  // ------------------------------------------------------------------ validator → miner

  /**
   * `V0InitialJobRequest`: reserve an executor, accept (or decline), start it.
   *
   * Its turn at admission is taken on arrival, before any store round trip: requests are admitted
   * in the order they reached the miner. Taken after the receipt and job writes, a request whose
   * writes were slow (PostgreSQL's pool answers out of order) was overtaken by requests its
   * validators signed later; declined busy then, it had no excuse, since a validator accepts only
   * started receipts older than the declined job's own (ComputeHorde's `filter_valid_excuse_receipts`).
   */
  async initialJobRequest(peer: ValidatorPeer, minerHotkey: string, msg: V0InitialJobRequest): Promise<void> {
    const turn = this.takeTurn();
    try {
      await this.admitRequest(peer, minerHotkey, msg, turn);
    } finally {
      turn.pass();
    }
  }

  private async admitRequest(peer: ValidatorPeer, minerHotkey: string, msg: V0InitialJobRequest, turn: AdmissionTurn): Promise<void> {
    const { store, pool, receipts, metrics } = this.options;
    const validatorHotkey = peer.validatorHotkey;
    const executorClass = msg.executor_class;
    const log = this.log.child({ jobUuid: msg.job_uuid, validatorHotkey, minerHotkey, executorClass });

    // Both reads at once: one store round trip on the accept path instead of two.
    const [seen, blacklisted] = this.jobs.has(msg.job_uuid)
      ? [true, false]
      : await Promise.all([store.jobs.exists(msg.job_uuid), store.validators.isBlacklisted(validatorHotkey)]);
    // A request turned away before its admission gives its turn up before its answer is sent: a
    // validator that stops reading its socket must not hold every later request back.
    if (seen) {
      turn.pass();
      log.warn('initial job request for a job uuid already seen; refused');
      await peer.send({ message_type: 'GenericError', details: `job ${msg.job_uuid} was already requested` });
      return;
    }
    if (blacklisted) {
      turn.pass();
      log.info('declining job from a blacklisted validator');
      metrics.jobsDeclined.inc({ executor_class: executorClass, reason: 'validator_blacklisted' });
      await peer.send({
        message_type: 'V0DeclineJobRequest',
        job_uuid: msg.job_uuid,
        reason: 'validator_blacklisted',
        message: 'validator is blacklisted',
        receipts: [],
      });
      return;
    }
    // The started receipt is kept even if the job is declined: it is what excuses this miner later.
    // One that does not verify (or is for another job) excuses nothing and pays nothing: the job is
    // refused rather than run on the validator's word alone.
    let started: CountersignedReceipt | null = null;
    if (receipts) {
      const receipt = msg.job_started_receipt_payload;
      const outcome =
        receipt.job_uuid === msg.job_uuid
          ? await receipts.countersign(receipt, msg.job_started_receipt_signature, { validatorHotkey, minerHotkey })
          : ({ ok: false, rejection: 'another_job' } as const);
      if (!outcome.ok) {
        turn.pass();
        log.warn({ rejection: outcome.rejection }, 'declining job: its started receipt is not valid');
        metrics.jobsDeclined.inc({ executor_class: executorClass, reason: 'invalid_signature' });
        await peer.send({
          message_type: 'V0DeclineJobRequest',
          job_uuid: msg.job_uuid,
          reason: 'invalid_signature',
          message: `the job-started receipt was refused (${outcome.rejection})`,
          receipts: [],
        });
        return;
      }
      started = outcome.receipt;
    }

    const token = `${msg.job_uuid}-${randomUUID()}`;
    // The receipt and the job's row in one transaction: one commit on the accept path, and never
    // one without the other. The receipt is on a page (served) only once that commit is done.
    const [receiptRows] = await store.jobs.create(
      {
        jobUuid: msg.job_uuid,
        validatorHotkey,
        minerHotkey,
        executorClass,
        executorToken: token,
        status: 'waiting_for_executor',
        initialJobDetails: withoutInlineVolumes(msg),
      },
      null,
      started ? [store.receipts.insertQuery(started)] : [],
    );
    const receiptStored = store.receipts.stored(receiptRows);
    if (receipts && started) {
      if (receiptStored) await receipts.published(started, { validatorHotkey, minerHotkey });
      else log.info('started receipt already stored; kept the first');
    }
    const job: ActiveJob = {
      jobUuid: msg.job_uuid,
      validatorHotkey,
      minerHotkey,
      executorClass,
      token,
      initialRequest: msg,
      acceptedAt: this.options.clock.now(),
      status: 'waiting_for_executor',
      owner: peer,
      outbox: [],
      pendingJobRequest: null,
      executor: null,
      tokenUsed: false,
      executorAddress: null,
      connectTimer: new AbortController(),
      ended: false,
      endedAt: null,
      delivery: Promise.resolve(),
      unsaved: 0,
      persisted: Promise.resolve(),
      writing: Promise.resolve(),
    };

    // The policy's view (who holds what) and the reservation must not interleave with another
    // request's, or several requests could each see the same free share and all take it.
    const spinUp = this.options.spinUpSeconds(executorClass);
    const tryAdmit = async (): Promise<Admission> => {
      // Admission steps run one at a time, but executors free and exit whenever they do: one that
      // freed while the policy looked (at a full class, say) must not go to this request unasked,
      // so the reservation holds only on the view the policy decided on, else the policy decides again.
      for (let attempt = 1; ; attempt += 1) {
        const revision = pool.revision(executorClass);
        const refusal = await this.capacityRefusal(validatorHotkey, executorClass);
        if (refusal !== null) return { kind: 'refused', reason: refusal };
        try {
          const { started } = await pool.reserve(
            token,
            executorClass,
            {
              minerAddress: this.options.executorAddress(),
              launch: this.options.launch(token),
              timeoutSeconds: spinUp,
              logger: log,
            },
            validatorHotkey,
            revision,
          );
          this.jobs.set(job.jobUuid, job);
          this.byToken.set(token, job);
          return { kind: 'reserved', started };
        } catch (error) {
          if (error instanceof PoolChangedError && attempt < MAX_ADMISSION_ATTEMPTS) continue;
          // Changing on every attempt: as busy, so the request waits and is offered the next freed executor.
          if (error instanceof AllExecutorsBusyError || error instanceof PoolChangedError) return { kind: 'busy', reason: error.message };
          return { kind: 'failed', error };
        }
      }
    };
    const admission = await turn.run(tryAdmit);
    if ((admission.kind === 'refused' || admission.kind === 'busy') && this.mayWait(peer, executorClass)) {
      if (this.waitingFull(validatorHotkey, executorClass)) {
        // More waiting than the class could ever serve at once gains the validator nothing and
        // costs the miner a walk over every waiter per freed executor: declined now, with its refusal.
        log.warn('declining at once: this validator already has as many requests waiting as the class has executors');
        metrics.capacityWaitOverflow.inc({ executor_class: executorClass });
        await this.answerAdmission(peer, msg, job, admission, log);
        return;
      }
      // The wait goes on in the background: the connection's later frames (other jobs' requests,
      // receipts) are not held behind it.
      const answering = this.waitForExecutor(peer, executorClass, tryAdmit, admission)
        .then((outcome) => this.answerAdmission(peer, msg, job, outcome, log))
        .catch((error: unknown) => log.error({ err: error }, 'could not answer an initial job request after its wait'))
        .finally(() => this.answering.delete(answering));
      this.answering.add(answering);
      return;
    }
    await this.answerAdmission(peer, msg, job, admission, log);
  }

  /** Answers an initial job request with what its admission came to: accept (and start), decline, or horde failure. */
  private async answerAdmission(
    peer: ValidatorPeer,
    msg: V0InitialJobRequest,
    job: ActiveJob,
    admission: Admission,
    log: Logger,
  ): Promise<void> {
    const { store, metrics } = this.options;
    const executorClass = job.executorClass;
    const spinUp = this.options.spinUpSeconds(executorClass);
    if (admission.kind === 'refused') {
      log.info(
        { policy: this.options.capacityPolicy.name, reason: admission.reason },
        'capacity policy keeps the free executors for other validators',
      );
      await this.declineBusy(peer, msg, admission.reason);
      return;
    }
    if (admission.kind === 'busy') {
      await this.declineBusy(peer, msg, admission.reason);
      return;
    }
    if (admission.kind === 'failed') {
      // The manager could not even say what it has (manifest() failed): the network's fault.
      log.error({ err: admission.error }, 'could not reserve an executor');
      const message = `Executor failed to start: ${(admission.error as Error).message}`;
      metrics.jobsFailed.inc({ executor_class: executorClass, kind: 'horde', reason: 'executor_spinup_failed' });
      await store.jobs.setStatus(msg.job_uuid, 'failed', { errorType: 'executor_spinup_failed', errorDetail: message }, message);
      await peer.send({
        message_type: 'V0HordeFailedRequest',
        job_uuid: msg.job_uuid,
        reported_by: 'miner',
        reason: 'executor_spinup_failed',
        message,
      });
      return;
    }
    const { started } = admission;

    metrics.jobsAccepted.inc({ executor_class: executorClass });
    log.info('job accepted; executor starting');
    this.deliver(job, { message_type: 'V0AcceptJobRequest', job_uuid: job.jobUuid });
    this.expireTokenAfter(job, spinUp + this.options.startupTimeLimitSeconds);

    started.then(
      async (handle) => {
        try {
          const address = (await this.options.manager.publicAddress?.(handle as { id: string })) ?? null;
          if (address) {
            job.executorAddress = address;
            await store.jobs.update(job.jobUuid, { executorAddress: address });
          }
        } catch (error) {
          log.warn({ err: error }, 'could not record the executor address');
        }
      },
      (error: unknown) => {
        this.failSoon(job, 'executor_spinup_failed', `Executor failed to start: ${(error as Error).message}`);
        // The pool dropped the slot of the executor that did not start: someone waiting may take it.
        this.offerFreed(executorClass);
      },
    );
  }

  /** Runs `step` after every admission step before it: one policy decision and reservation at a time. */
  private admitted<T>(step: () => Promise<T>): Promise<T> {
    const run = this.admission.then(step);
    this.admission = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * A new request's place in arrival order, held from now: the requests that arrived after it
   * queue their admission step (`admitted`) only after it queued its own (`run`) or gave it up
   * (`pass`, a request that ended before its admission). Offers of a freed executor to waiting
   * requests (`offerFreed`) do not wait for these turns: every waiter arrived before them.
   */
  private takeTurn(): AdmissionTurn {
    const before = this.arrivals;
    let release!: () => void;
    this.arrivals = new Promise<void>((resolve) => (release = resolve));
    let used = false;
    return {
      run: <T>(step: () => Promise<T>): Promise<T> => {
        used = true;
        return before.then(() => {
          const run = this.admitted(step);
          release();
          return run;
        });
      },
      pass: () => {
        if (used) return;
        used = true;
        void before.then(release);
      },
    };
  }

  /**
   * Asks the capacity policy whether `validatorHotkey` may take a free executor of the class now.
   * Null: go ahead (also when no executor is free: the pool declines that). Else the reason to decline.
   */
  private async capacityRefusal(validatorHotkey: string, executorClass: string): Promise<string | null> {
    const usage = this.options.pool.usage()[executorClass];
    if (!usage || usage.capacity === 0 || usage.used >= usage.capacity) return null;
    const held = new Map<string, number>();
    // Competing now: the asker, validators holding an executor of the class, and connected
    // validators that were declined one lately (they want one and would take it).
    const cutoff = this.options.clock.now() - UNMET_DEMAND_WINDOW_MS;
    const declined = this.declinedAt.get(executorClass);
    for (const peer of this.peers) {
      const at = declined?.get(peer.validatorHotkey);
      if (peer.isReady() && at !== undefined && at >= cutoff) held.set(peer.validatorHotkey, 0);
    }
    for (const waiter of this.waiters)
      if (waiter.executorClass === executorClass && waiter.peer.isReady()) held.set(waiter.peer.validatorHotkey, 0);
    held.set(validatorHotkey, 0);
    for (const [hotkey, count] of this.heldByValidator(executorClass)) held.set(hotkey, count);
    if (held.size === 1) return null; // nobody to share with
    const decision = this.options.capacityPolicy.decide(await this.capacityRequest(validatorHotkey, executorClass, held));
    return decision.admit ? null : decision.reason;
  }

  private async capacityRequest(
    validatorHotkey: string,
    executorClass: string,
    held: ReadonlyMap<string, number>,
  ): Promise<CapacityRequest> {
    const usage = this.options.pool.usage()[executorClass] ?? { capacity: 0, used: 0, draining: 0 };
    const holders = [...held];
    const stakes = await this.options.stakesOf(holders.map(([hotkey]) => hotkey));
    const claimants: CapacityClaimant[] = holders.map(([hotkey, count], i) => ({
      validatorHotkey: hotkey,
      stake: stakes[i] ?? 0,
      held: count,
    }));
    return { executorClass, validatorHotkey, capacity: usage.capacity, free: Math.max(0, usage.capacity - usage.used), claimants };
  }

  /**
   * Executors of the class each validator holds now: jobs that still have their slot, ended ones
   * included. A job that ended keeps its slot until its end is recorded (a store write) and the
   * slot released; counted as free for its validator meanwhile, the slot freed by another
   * validator's job went to it as well, and the split drifted with the store's latency.
   */
  private heldByValidator(executorClass: string): Map<string, number> {
    // Counted by the pool as slots come and go (each reserved for its validator's hotkey), not by
    // a scan of every job: this runs on every request, and the scan cost as many steps as the
    // executors live then (5,000 on a pool of 1,000,000 slots: 7 ms a request).
    return this.options.pool.holders(executorClass);
  }

  /** Whether a request of `peer` that found no executor may wait for one (waiting is on, the class exists, the miner runs). */
  private mayWait(peer: ValidatorPeer, executorClass: string): boolean {
    const capacity = this.options.pool.usage()[executorClass]?.capacity ?? 0;
    return this.options.capacityWaitMs > 0 && capacity > 0 && !this.closing.signal.aborted && peer.isReady();
  }

  /**
   * Whether `validatorHotkey` already has as many requests waiting for `executorClass` as the
   * class has executors: each freed executor goes to one waiter, so more could never all be served
   * within one wait, and the waiting set stays bounded by validators × capacity.
   */
  private waitingFull(validatorHotkey: string, executorClass: string): boolean {
    const capacity = this.options.pool.usage()[executorClass]?.capacity ?? 0;
    let waiting = 0;
    for (const waiter of this.waiters)
      if (waiter.executorClass === executorClass && waiter.peer.validatorHotkey === validatorHotkey && ++waiting >= capacity) return true;
    return false;
  }

  /**
   * Holds a request that found no executor for it (`first`: why) for up to `capacityWaitMs`: an
   * executor freed meanwhile is offered to the waiting requests (`offerFreed`). Resolves with the
   * reservation, or with the last refusal when the wait runs out, the connection goes or the miner stops.
   *
   * Why wait at all: a validator learns that an executor is free only by asking again, and each
   * ask goes through the store (receipt, job row, decline) before it reaches the policy. Declined
   * at once, a freed executor stood free until the right validator's next request got through: on
   * PostgreSQL 0.5-0.9 s on average (SQLite 70-80 ms), and the high-stake validator, whose
   * executors free up three times as often, was under its share with an executor free 10× as long
   * as the low-stake one, so the 3:1 split drifted to 2.5-2.75. Held here, the request is already
   * present when the executor frees (measured gap ~20 ms).
   */
  private waitForExecutor(
    peer: ValidatorPeer,
    executorClass: string,
    tryAdmit: () => Promise<Admission>,
    first: Admission,
  ): Promise<Admission> {
    const waitMs = this.options.capacityWaitMs;
    return new Promise<Admission>((resolve) => {
      const deadline = new AbortController();
      const waiter: Waiter = {
        peer,
        executorClass,
        since: this.options.clock.now(),
        tryAdmit,
        last: first,
        offering: false,
        expired: false,
        settle: (admission) => {
          if (!this.waiters.delete(waiter)) return;
          deadline.abort(TIMER_NOT_NEEDED);
          resolve(admission);
        },
      };
      this.waiters.add(waiter);
      this.options.clock.sleep(waitMs, deadline.signal).then(
        () => {
          // An offer being tried for it decides (it may have reserved an executor); else it ends here.
          if (waiter.offering) waiter.expired = true;
          else waiter.settle(waiter.last);
        },
        () => undefined, // settled before the deadline
      );
    });
  }

  /**
   * An executor of `executorClass` may have freed up: offers it to the waiting requests, the one
   * the capacity policy ranks first (`priority`, else the oldest) first, until one takes it.
   */
  private offerFreed(executorClass: string): void {
    if (![...this.waiters].some((waiter) => waiter.executorClass === executorClass)) return;
    void this.admitted(async () => {
      const policy = this.options.capacityPolicy;
      for (;;) {
        const usage = this.options.pool.usage()[executorClass];
        if (!usage || usage.used >= usage.capacity) return;
        const waiting = [...this.waiters].filter((waiter) => waiter.executorClass === executorClass);
        for (const waiter of waiting) if (!waiter.peer.isReady()) waiter.settle(waiter.last);
        const ready = waiting.filter((waiter) => waiter.peer.isReady());
        if (ready.length === 0) return;
        let ranked = ready;
        if (policy.priority) {
          const held = this.heldByValidator(executorClass);
          for (const waiter of ready) if (!held.has(waiter.peer.validatorHotkey)) held.set(waiter.peer.validatorHotkey, 0);
          const priorities = new Map<string, number>();
          for (const hotkey of new Set(ready.map((waiter) => waiter.peer.validatorHotkey))) {
            priorities.set(hotkey, policy.priority(await this.capacityRequest(hotkey, executorClass, held)));
          }
          // Stable sort: among equals, the oldest request first.
          ranked = [...ready].sort((a, b) => priorities.get(b.peer.validatorHotkey)! - priorities.get(a.peer.validatorHotkey)!);
        }
        let taken = false;
        for (const waiter of ranked) {
          waiter.offering = true;
          const admission = await waiter.tryAdmit().finally(() => {
            waiter.offering = false;
          });
          if (admission.kind === 'refused' || admission.kind === 'busy') {
            waiter.last = admission;
            if (waiter.expired) waiter.settle(admission);
            continue;
          }
          waiter.settle(admission);
          taken = true;
          break;
        }
        if (!taken) return;
      }
    }).catch((error: unknown) => {
      this.log.error({ err: error, executorClass }, 'could not offer a freed executor to the waiting requests');
    });
  }

  /** A `busy` decline, with the receipts that excuse it (jobs that hold this class's executors), as the protocol wants. */
  private async declineBusy(peer: ValidatorPeer, msg: V0InitialJobRequest, message: string): Promise<void> {
    const { store, receipts, metrics } = this.options;
    const executorClass = msg.executor_class;
    const demand = this.declinedAt.get(executorClass) ?? new Map<string, number>();
    demand.set(peer.validatorHotkey, this.options.clock.now());
    this.declinedAt.set(executorClass, demand);
    const at = receiptTimestampMs(msg.job_started_receipt_payload);
    const excuses = receipts ? await store.receipts.excuses({ executorClass, at, excludeJobUuid: msg.job_uuid }) : [];
    await store.jobs.setStatus(msg.job_uuid, 'rejected', { errorType: 'busy', errorDetail: message }, message);
    metrics.jobsDeclined.inc({ executor_class: executorClass, reason: 'busy' });
    this.log.info(
      { jobUuid: msg.job_uuid, validatorHotkey: peer.validatorHotkey, executorClass, excuses: excuses.length },
      'declining job: busy',
    );
    await peer.send({ message_type: 'V0DeclineJobRequest', job_uuid: msg.job_uuid, reason: 'busy', message, receipts: excuses });
  }

  /** `V0JobRequest`: pass it to the executor (now, or as soon as it connects). Returns an error text for the validator, or null. */
  async jobRequest(peer: ValidatorPeer, msg: V0JobRequest): Promise<string | null> {
    const job = this.jobs.get(msg.job_uuid);
    if (!job || job.validatorHotkey !== peer.validatorHotkey || job.ended)
      return `Received JobRequest for unknown job_uuid: ${msg.job_uuid}`;
    if (job.initialRequest.volume && msg.volume) return `Received job volume twice job_uuid: ${msg.job_uuid}`;
    if (job.pendingJobRequest || job.status === 'running') return `Received JobRequest twice job_uuid: ${msg.job_uuid}`;

    job.owner = peer;
    if (job.status === 'waiting_for_executor') {
      // Before "executor ready": held, and passed on when the executor reports ready. Refusing
      // the executor's connection because of it made a hurried validator's job a spin-up failure.
      job.pendingJobRequest = msg;
      this.log.info({ jobUuid: job.jobUuid, validatorHotkey: job.validatorHotkey }, 'job request held until the executor is ready');
      return null;
    }
    await this.passJobRequest(job, msg);
    return null;
  }

  private async passJobRequest(job: ActiveJob, msg: V0JobRequest): Promise<void> {
    // The executor gets the request while the row is written: the warm path. The write starts once
    // the socket took the frame: with SQLite a write holds the event loop (0.6-0.9 ms), and begun in
    // the same tick it held the frame back as long (the executor had it 0.9-1.2 ms after the send,
    // 0.15 ms now).
    const sent = job.executor ? job.executor.send(msg) : null;
    if (!sent) job.pendingJobRequest = msg;
    const recorded = this.setStatus(job, 'running', { fullJobDetails: withoutInlineVolumes(msg) }, null, sent);
    await sent;
    await recorded;
    this.log.info({ jobUuid: job.jobUuid, validatorHotkey: job.validatorHotkey }, 'job request passed to the executor');
  }

  // ------------------------------------------------------------------ executor → miner

  /** The job an executor token stands for, if it may connect now; else why not. Tokens are single-use. */
  claimToken(token: string): ActiveJob | string {
    const job = this.byToken.get(token);
    if (!job) return `No job waiting for token ${token}`;
    if (job.tokenUsed || job.ended || job.status !== 'waiting_for_executor')
      return `Job with token ${token} is not waiting for an executor`;
    job.tokenUsed = true;
    job.connectTimer.abort(TIMER_NOT_NEEDED);
    return job;
  }

  /** The executor of `job` connected: give it the initial request (and the job request if it came already). */
  async executorConnected(job: ActiveJob, executor: ExecutorPeer, remoteAddress: string): Promise<void> {
    job.executor = executor;
    this.log.info({ jobUuid: job.jobUuid, validatorHotkey: job.validatorHotkey }, 'executor connected');
    let initial = job.initialRequest;
    if (initial.streaming_details) {
      initial = { ...initial, streaming_details: { ...initial.streaming_details, executor_ip: job.executorAddress ?? remoteAddress } };
    }
    await executor.send(initial);
    // A job request held before ready waits for V0ExecutorReadyRequest (executorMessage).
    if (job.pendingJobRequest && job.status === 'running') {
      const request = job.pendingJobRequest;
      job.pendingJobRequest = null;
      await executor.send(request);
    }
  }

  async executorMessage(job: ActiveJob, msg: ExecutorToMinerMessage, remoteAddress: string): Promise<void> {
    const log = this.log.child({ jobUuid: job.jobUuid, validatorHotkey: job.validatorHotkey, messageType: msg.message_type });
    if (job.ended) {
      log.warn('executor message after the job ended; ignored');
      return;
    }
    if (msg.message_type !== 'GenericError' && msg.job_uuid !== job.jobUuid) {
      log.warn({ messageJobUuid: msg.job_uuid }, 'executor message names another job; ignored');
      return;
    }
    const { metrics } = this.options;
    const labels = { executor_class: job.executorClass };
    switch (msg.message_type) {
      case 'V0ExecutorReadyRequest': {
        // Relayed while the status is written, as the warm path relays (see `setStatus`): the
        // validator's job request waited for this commit (1-2.4 ms with SQLite) on every cold job.
        // `job.status` is already set, so that request is passed on, and its `running` write is
        // queued behind this one.
        const recorded = this.setStatus(job, 'waiting_for_payload');
        log.info('executor ready');
        this.deliver(job, { ...msg, executor_token: null });
        if (job.pendingJobRequest) {
          const held = job.pendingJobRequest;
          job.pendingJobRequest = null;
          await this.passJobRequest(job, held);
        }
        await recorded;
        return;
      }
      case 'V0StreamingJobReadyRequest': {
        const hotkey = this.options.hotkeys.get(job.minerHotkey) ?? [...this.options.hotkeys.values()][0]!;
        this.deliver(job, signStreamingReady(msg, job.executorAddress ?? remoteAddress, hotkey));
        return;
      }
      case 'V0VolumesReadyRequest':
      case 'V0ExecutionDoneRequest':
      case 'V0MachineSpecsRequest':
        this.deliver(job, msg);
        return;
      case 'V0JobFinishedRequest': {
        metrics.jobsFinished.inc(labels);
        log.info('job finished');
        const recorded = this.end(job, 'finished', {
          stdout: msg.docker_process_stdout,
          stderr: msg.docker_process_stderr,
          artifacts: msg.artifacts ?? {},
          uploadResults: msg.upload_results ?? {},
          exitStatus: 0,
        });
        this.deliver(job, msg);
        await recorded;
        this.releaseSlot(job);
        return;
      }
      case 'V0JobFailedRequest': {
        metrics.jobsFailed.inc({ ...labels, kind: 'job', reason: msg.reason });
        log.info({ reason: msg.reason, stage: msg.stage }, 'job failed');
        const recorded = this.end(job, 'failed', {
          errorType: msg.reason,
          errorDetail: msg.message,
          stdout: msg.docker_process_stdout ?? null,
          stderr: msg.docker_process_stderr ?? null,
          exitStatus: msg.docker_process_exit_status ?? null,
        });
        this.deliver(job, msg);
        await recorded;
        this.releaseSlot(job);
        return;
      }
      case 'V0HordeFailedRequest':
        await this.reportHordeFailure(job, msg);
        // The executor said its last word and exits: its slot is free, as after a finished job.
        this.releaseSlot(job);
        return;
      case 'GenericError':
        await this.reportHordeFailure(job, {
          message_type: 'V0HordeFailedRequest',
          job_uuid: job.jobUuid,
          reported_by: 'executor',
          reason: 'generic_error',
          message: msg.details || 'Received GenericError from the executor with no details',
        });
        return;
    }
  }

  /** The executor's websocket closed. Mid-job, that is a horde failure the validator hears about now. */
  async executorDisconnected(job: ActiveJob, code: number): Promise<void> {
    job.executor = null;
    if (job.ended) return;
    await this.fail(job, 'executor_disconnected', `Executor disconnected while job was running (code: ${code})`);
  }

  /** The pool is about to kill an executor that outlived the TTL: the validator hears that reason. */
  onExecutorExpiring(token: string): void {
    const job = this.byToken.get(token);
    if (job && !job.ended) this.failSoon(job, 'executor_disconnected', 'Executor outlived its time to live and was killed');
  }

  /** The pool saw an executor leave (exited, expired, killed). Catches executors that die before connecting. */
  onExecutorGone(event: ExecutorGoneEvent): void {
    const job = this.byToken.get(event.token);
    if (!job) {
      this.offerFreed(event.executorClass);
      return;
    }
    if (!job.ended) {
      // The manager's reason says why (e.g. `ssh connection lost` for a host found dead).
      const exit =
        event.status?.state === 'exited'
          ? ` (exit code ${event.status.exitCode ?? 'unknown'}${event.status.reason ? `, ${event.status.reason}` : ''})`
          : '';
      if (event.reason === 'expired') this.failSoon(job, 'executor_disconnected', 'Executor outlived its time to live and was killed');
      else if (job.executor === null && !job.tokenUsed)
        this.failSoon(job, 'executor_spinup_failed', `Executor stopped before connecting to the miner${exit}`);
      else this.failSoon(job, 'executor_disconnected', `Executor stopped while job was running${exit}`);
    }
    this.byToken.delete(event.token);
    this.forgetIfDone(job);
    this.offerFreed(event.executorClass);
  }

  /** Drops ended jobs whose result no validator came back for in a day. */
  sweep(): void {
    const cutoff = this.options.clock.now() - UNDELIVERED_RESULT_TTL_MS;
    for (const job of this.jobs.values()) {
      if (job.ended && job.endedAt !== null && job.endedAt < cutoff) {
        this.log.warn(
          { jobUuid: job.jobUuid, validatorHotkey: job.validatorHotkey, undelivered: job.outbox.length },
          'dropping an undelivered job result',
        );
        this.jobs.delete(job.jobUuid);
        this.byToken.delete(job.token);
      }
    }
  }

  close(): void {
    this.closing.abort();
    for (const waiter of [...this.waiters]) waiter.settle(waiter.last);
    for (const job of this.jobs.values()) job.connectTimer.abort(TIMER_NOT_NEEDED);
  }

  // ------------------------------------------------------------------ internals

  private async reportHordeFailure(job: ActiveJob, msg: V0HordeFailedRequest): Promise<void> {
    this.options.metrics.jobsFailed.inc({ executor_class: job.executorClass, kind: 'horde', reason: msg.reason });
    this.log.warn(
      { jobUuid: job.jobUuid, validatorHotkey: job.validatorHotkey, reason: msg.reason, reportedBy: msg.reported_by, detail: msg.message },
      'horde failure',
    );
    const recorded = this.end(job, 'failed', { errorType: msg.reason, errorDetail: msg.message });
    this.deliver(job, msg);
    await recorded;
  }

  /** `fail` from a callback nobody awaits: errors are logged, never left unhandled. */
  private failSoon(job: ActiveJob, reason: HordeFailureReason, message: string): void {
    const failing = this.fail(job, reason, message)
      .catch((error: unknown) => {
        this.log.error({ err: error, jobUuid: job.jobUuid, reason }, 'could not report a horde failure');
      })
      .finally(() => this.failing.delete(failing));
    this.failing.add(failing);
  }

  /**
   * Waits for the failures still being recorded (the pool's close kills every executor, and each
   * kill fails its job): the miner closes its store only after them, so none is lost or written
   * to a closed store.
   */
  async drain(): Promise<void> {
    while (this.failing.size > 0 || this.answering.size > 0 || this.recording.size > 0)
      await Promise.all([...this.failing, ...this.answering, ...this.recording]);
  }

  /** A failure the miner itself reports (the executor cannot): ends the job and frees the executor. */
  private async fail(job: ActiveJob, reason: HordeFailureReason, message: string): Promise<void> {
    if (job.ended) return;
    await this.reportHordeFailure(job, {
      message_type: 'V0HordeFailedRequest',
      job_uuid: job.jobUuid,
      reported_by: 'miner',
      reason,
      message,
    });
    await this.options.pool.kill(job.token);
  }

  /**
   * The executor sent the job's final message: the slot goes to the next request now, not when the
   * process exits (docker cleanup takes seconds, during which every request would be declined
   * `busy` with no excuse). The pool lets the executor finish exiting in the background.
   */
  private releaseSlot(job: ActiveJob): void {
    this.options.pool.release(job.token);
    this.forgetIfDone(job);
  }

  private expireTokenAfter(job: ActiveJob, seconds: number): void {
    this.options.clock.sleep(seconds * 1000, job.connectTimer.signal).then(
      () => {
        if (job.tokenUsed || job.ended) return;
        this.failSoon(job, 'executor_spinup_failed', `Executor did not connect within ${seconds} s`);
      },
      () => {}, // cancelled: the executor connected or the job ended
    );
  }

  /**
   * Records the job's new status; resolves once it is written. The job's writes run one after
   * another in the order they were made (`job.writing`), so a caller may relay its message before
   * awaiting this (the warm path does: `running` is written while the executor already has the
   * request, the end while the validator already has the result) and a slow `running` still never
   * lands after `finished`. When the store is down, the message must still reach the validator (it
   * was dropped, and the row stayed `waiting_for_executor` for good): the write is then retried in
   * the background, in order with the job's later writes, until the store is back.
   */
  private setStatus(
    job: ActiveJob,
    status: MinerJobStatus,
    update: MinerJobUpdate = {},
    detail: string | null = null,
    /** The write starts once this settles (a send it must not hold back); it never rejects. */
    after: Promise<unknown> | null = null,
  ): Promise<void> {
    job.status = status;
    const write = () => this.options.store.jobs.setStatus(job.jobUuid, status, update, detail);
    job.writing = job.writing.then(async () => {
      if (after) await after;
      // Behind writes waiting for the store (unsaved > 0) it waits too: the row's writes keep their order.
      if (job.unsaved > 0) return this.writeInBackground(job, status, write, { refused: false });
      try {
        await write();
      } catch (error) {
        this.log.warn(
          { err: error, jobUuid: job.jobUuid, status },
          'could not record the job status; relaying anyway and retrying the write',
        );
        this.writeInBackground(job, status, write, { refused: true });
      }
    });
    this.track(job.writing);
    return job.writing;
  }

  /** A status write on its way: the miner closes its store only after it (drain). */
  private track(write: Promise<void>): void {
    this.recording.add(write);
    void write.finally(() => this.recording.delete(write));
  }

  /**
   * Queues a status write behind the job's earlier background writes, retried while the store is
   * down. `refused`: the store already refused it once (its recovery is then logged).
   */
  private writeInBackground(job: ActiveJob, status: MinerJobStatus, write: () => Promise<void>, { refused }: { refused: boolean }): void {
    let retried = refused;
    job.unsaved++;
    job.persisted = job.persisted
      .then(() =>
        withRetries(write, {
          attempts: STATUS_WRITE_ATTEMPTS,
          initialDelayMs: 250,
          factor: 1.5,
          signal: this.closing.signal,
          onRetry: (error, attempt) => {
            retried = true;
            this.log.warn({ err: error, jobUuid: job.jobUuid, status, attempt }, 'store still unavailable; retrying the job status write');
          },
        }),
      )
      .then(
        () => {
          if (retried) this.log.info({ jobUuid: job.jobUuid, status }, 'job status recorded after the store came back');
        },
        (error: unknown) =>
          this.log.error(
            { err: error, jobUuid: job.jobUuid, status },
            'gave up recording the job status; the next miner start marks the job failed',
          ),
      )
      .finally(() => {
        job.unsaved--;
      });
    this.track(job.persisted);
  }

  /**
   * Marks the job ended and records it. Callers relay the final message before they await this:
   * the validator's result does not wait for the write (a transaction on the warm path), while the
   * executor's slot is released only once the end is recorded.
   */
  private async end(job: ActiveJob, status: MinerJobStatus, update: MinerJobUpdate): Promise<void> {
    job.ended = true;
    job.endedAt = this.options.clock.now();
    job.connectTimer.abort(TIMER_NOT_NEEDED);
    await this.setStatus(job, status, update, update.errorDetail ?? null);
  }

  /** Queues `message` for the job's validator and sends what the queue holds, in order. */
  private deliver(job: ActiveJob, message: MinerToValidatorMessage): void {
    job.outbox.push(message);
    this.flush(job);
  }

  /**
   * Sends the job's outbox in order. A connection that fails a send is not tried again in this
   * round, even if its socket still says OPEN (a write can fail before the close is seen): the
   * message stays queued for another connection of the same validator, or for a reconnect.
   */
  private flush(job: ActiveJob): void {
    job.delivery = job.delivery
      .then(async () => {
        const failed = new Set<ValidatorPeer>();
        while (job.outbox.length > 0) {
          const peer = this.peerFor(job, failed);
          if (!peer) {
            if (failed.size > 0) {
              this.log.warn(
                {
                  jobUuid: job.jobUuid,
                  validatorHotkey: job.validatorHotkey,
                  undelivered: job.outbox.length,
                  failedConnections: [...failed].map((p) => p.id),
                },
                'could not send to the validator; messages kept for its reconnect',
              );
            }
            return;
          }
          const message = job.outbox[0]!;
          if (!(await peer.send(message))) {
            failed.add(peer);
            if (job.owner === peer) job.owner = null;
            continue; // try another connection of the same validator, if there is one
          }
          job.outbox.shift();
          if (isFinal(message)) {
            await this.options.store.jobs.update(job.jobUuid, { resultReportedAt: this.options.clock.now() }).catch((error: unknown) => {
              this.log.error({ err: error, jobUuid: job.jobUuid }, 'could not record the result as reported');
            });
          }
        }
        this.forgetIfDone(job);
      })
      .catch((error: unknown) => {
        this.log.error({ err: error, jobUuid: job.jobUuid }, 'delivery to the validator failed');
      });
  }

  /** The job's own connection if open, else the newest open connection of the same validator; never one in `skip`. */
  private peerFor(job: ActiveJob, skip: ReadonlySet<ValidatorPeer> = new Set()): ValidatorPeer | null {
    if (job.owner?.isReady() && !skip.has(job.owner)) return job.owner;
    let newest: ValidatorPeer | null = null;
    for (const peer of this.peers) if (peer.validatorHotkey === job.validatorHotkey && peer.isReady() && !skip.has(peer)) newest = peer;
    if (newest) job.owner = newest;
    return newest;
  }

  private forgetIfDone(job: ActiveJob): void {
    if (job.ended && job.outbox.length === 0 && !this.options.pool.has(job.token)) {
      this.jobs.delete(job.jobUuid);
      this.byToken.delete(job.token);
    }
  }
}

function isFinal(message: MinerToValidatorMessage): boolean {
  return (
    message.message_type === 'V0JobFinishedRequest' ||
    message.message_type === 'V0JobFailedRequest' ||
    message.message_type === 'V0HordeFailedRequest'
  );
}
