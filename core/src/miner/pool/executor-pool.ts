import type {
  Clock,
  ExecutorHandle,
  ExecutorManager,
  ExecutorStartContext,
  ExecutorStatus,
  Logger,
  Manifest,
} from '../../contracts/index.js';
import { DEFAULT_EXECUTOR_STARTUP_TIME_LIMIT_SECONDS, DEFAULT_EXECUTOR_TTL_SECONDS } from '../../config/sections/miner.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { AllExecutorsBusyError, ExecutorStartTimeoutError, ExecutorUnavailableError, PoolChangedError } from '../errors.js';
import { Counts } from './counts.js';
import { TIMER_NOT_NEEDED } from '../../time/clock.js';

/** The miner's default `executorTtlSeconds`: an executor older than this is killed by the cleanup loop. */
export const DEFAULT_EXECUTOR_TTL_MS = DEFAULT_EXECUTOR_TTL_SECONDS * 1000;
/** ComputeHorde's `POOL_CLEANUP_PERIOD`. */
export const DEFAULT_POOL_CLEANUP_INTERVAL_MS = 1_000;
/** A `poll` that takes longer than this counts as "still running" for this round. */
const POLL_TIMEOUT_MS = 5_000;
/**
 * Polls a cleanup round starts before it lets other work run: a round over thousands of live
 * executors in one go held the event loop 40-80 ms each second (accept p99 followed it).
 */
const POLLS_PER_TURN = 256;
/** The miner's default `executorStartupTimeLimitSeconds`. */
export const DEFAULT_EXECUTOR_STARTUP_LIMIT_MS = DEFAULT_EXECUTOR_STARTUP_TIME_LIMIT_SECONDS * 1000;
/**
 * How long an executor whose job ended may go on cleaning up (containers, volumes) after its slot
 * was handed on, before it is killed. Docker cleanup takes 1–3 s; this leaves a wide margin.
 */
export const DEFAULT_EXECUTOR_DRAIN_LIMIT_MS = 30_000;
/**
 * Released executors still exiting that each slot may have before they count as used. Jobs of a
 * second or two with a docker cleanup of 1–3 s overlap two or three deep; a cleanup that hangs
 * must not let the machine pile up executors without end.
 */
const MAX_DRAINING_PER_SLOT = 4;

export type ExecutorGoneReason =
  /** `poll` reported it exited on its own (normally: job done). */
  | 'exited'
  /** It outlived the TTL and was killed. */
  | 'expired'
  /** The runtime asked for it to be killed (`pool.kill`). */
  | 'killed'
  /** Its job ended and `pool.release` handed its slot on; it cleans up in the background. */
  | 'released';

export interface ExecutorGoneEvent {
  readonly token: string;
  readonly executorClass: string;
  readonly reason: ExecutorGoneReason;
  /** The exit status `poll` reported (reason `exited`). */
  readonly status?: ExecutorStatus;
}

export interface ExecutorPoolOptions {
  readonly manager: ExecutorManager;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly ttlMs?: number;
  readonly cleanupIntervalMs?: number;
  /**
   * The executor's startup limit. `manager.start` may take the class's spin-up (the start
   * context's `timeoutSeconds`) plus this; past it the reservation fails (`executor_spinup_failed`),
   * the slot is freed, and an executor the manager hands back later is killed. Default 5 s.
   */
  readonly startupLimitMs?: number;
  /** Told about every executor that leaves the pool, whatever the reason. */
  readonly onExecutorGone?: (event: ExecutorGoneEvent) => void;
  /** Told, before the kill, that an executor outlived the TTL (so its job is reported as such first). */
  readonly onExecutorExpiring?: (event: { readonly token: string; readonly executorClass: string }) => void;
  /** How long a released executor may take to exit on its own before it is killed. Default 30 s. */
  readonly drainLimitMs?: number;
}

/** What `reserve` hands back once a slot is held: the start of the executor, still under way. */
export interface Reservation {
  /** Resolves with the handle once the manager launched the executor; rejects with `ExecutorUnavailableError`. */
  readonly started: Promise<ExecutorHandle>;
}

interface Slot {
  readonly token: string;
  readonly executorClass: string;
  /** Whom the slot is held for (the job hub: the validator's hotkey), for `holders`. */
  readonly holder: string;
  readonly reservedAt: number;
  handle: ExecutorHandle | null;
  /** Set when a kill was asked for before the manager finished starting it. */
  killRequested: boolean;
  /** Being killed: still holds its slot until the manager confirms. */
  dying: boolean;
}

/** An executor whose job ended: its slot is free again, it finishes its own cleanup in the background. */
interface Draining {
  readonly token: string;
  readonly executorClass: string;
  readonly handle: ExecutorHandle;
  readonly releasedAt: number;
}

export interface PoolClassUsage {
  /** Executors the manager's manifest declares. */
  readonly capacity: number;
  /** Slots reserved or running now. */
  readonly used: number;
  /** Executors released and not yet seen gone (they ride free up to a few per slot, then take slots). */
  readonly draining: number;
}

/** Executors of one class that one validator holds now (`holdings`). */
export interface ExecutorHolding {
  readonly executorClass: string;
  readonly validatorHotkey: string;
  readonly held: number;
}

/**
 * The miner's executor pool (ComputeHorde's `ExecutorClassPool`, one per class, in one object):
 * sizes each class from `manager.manifest()` on every reservation, holds a slot per live executor,
 * and frees slots as executors exit or expire.
 *
 *  - `reserve` holds a slot at once (so the miner can accept before the executor is up) and starts
 *    the executor in the background; no free slot even after a forced cleanup → `AllExecutorsBusyError`.
 *    Unlike the original, the slot is counted while the manager starts the executor, so a second
 *    reservation never waits for the first start to finish.
 *  - A cleanup loop polls every live executor each second; exited → slot freed; older than the TTL
 *    → killed, slot freed.
 *  - `release` frees the slot of an executor whose job ended (final message sent) at once: its own
 *    cleanup (container removal, 1–3 s with docker) goes on in the background, polled by the same
 *    loop and killed past `drainLimitMs`. Past `MAX_DRAINING_PER_SLOT` draining executors per slot,
 *    the extra ones count as used, so a cleanup that hangs cannot pile executors up without end.
 *
 * Busy accounting is per class and local (count of live executors), never per validator.
 */
export class ExecutorPool {
  private readonly manager: ExecutorManager;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly ttlMs: number;
  private readonly cleanupIntervalMs: number;
  private readonly startupLimitMs: number;
  private readonly onExecutorGone: (event: ExecutorGoneEvent) => void;
  private readonly onExecutorExpiring: (event: { readonly token: string; readonly executorClass: string }) => void;

  private capacity: Manifest = {};
  private readonly slots = new Map<string, Slot>();
  /**
   * The slots and the draining executors counted by class: `free` and `usage` run several times
   * per request, and a scan of every slot made each request cost as much as the executors live at
   * the time (thousands on a big pool). Kept in step by `addSlot`/`removeSlot` and
   * `addDraining`/`removeDraining`.
   */
  private readonly slotsPerClass = new Counts<string>();
  /** Slots per holder, by class: the capacity policy's "who holds what", asked on every request. */
  private readonly heldByClass = new Map<string, Counts<string>>();
  private readonly draining = new Map<string, Draining>();
  private readonly drainingPerClass = new Counts<string>();
  /** Changes to each class's slots, draining executors and capacity: what `revision` reports. */
  private readonly changesPerClass = new Counts<string>();
  private readonly drainLimitMs: number;
  private cleanupRun: Promise<void> | null = null;
  private loop: Promise<void> | null = null;
  private readonly stop = new AbortController();

  constructor(options: ExecutorPoolOptions) {
    this.manager = options.manager;
    this.clock = options.clock;
    this.logger = options.logger;
    this.ttlMs = options.ttlMs ?? DEFAULT_EXECUTOR_TTL_MS;
    this.cleanupIntervalMs = options.cleanupIntervalMs ?? DEFAULT_POOL_CLEANUP_INTERVAL_MS;
    this.startupLimitMs = options.startupLimitMs ?? DEFAULT_EXECUTOR_STARTUP_LIMIT_MS;
    this.onExecutorGone = options.onExecutorGone ?? (() => {});
    this.onExecutorExpiring = options.onExecutorExpiring ?? (() => {});
    this.drainLimitMs = options.drainLimitMs ?? DEFAULT_EXECUTOR_DRAIN_LIMIT_MS;
  }

  /** Starts the cleanup loop. */
  start(): void {
    if (this.loop) return;
    // Know the capacity before the first reservation (health page, metrics).
    this.syncCapacity().catch((error: unknown) => this.logger.error({ err: error }, 'could not read the executor manifest'));
    this.loop = (async () => {
      while (!this.stop.signal.aborted) {
        try {
          if (this.slots.size > 0 || this.draining.size > 0) await this.cleanup();
        } catch (error) {
          this.logger.error({ err: error }, 'executor pool cleanup failed');
        }
        try {
          await this.clock.sleep(this.cleanupIntervalMs, this.stop.signal);
        } catch {
          return;
        }
      }
    })();
  }

  /**
   * A number that changes whenever anything `usage` or `holders` report for `executorClass`
   * changes: a decision made on that view still holds at `reserve` if the revision is the same.
   */
  revision(executorClass: string): number {
    return this.changesPerClass.get(executorClass);
  }

  /**
   * Holds a slot of `executorClass` for `token` and starts the executor. Throws
   * `AllExecutorsBusyError` when the class has no free slot (or is not in the manifest).
   * `holder` is counted in `holders` while the slot is held.
   *
   * `unchangedSince`: a `revision` the caller decided on (its capacity policy's view). Throws
   * `PoolChangedError`, reserving nothing, when the class changed since: an executor freed while
   * the caller looked at a full class must go through its policy, not to whoever asked then.
   */
  async reserve(
    token: string,
    executorClass: string,
    ctx: ExecutorStartContext,
    holder = '',
    unchangedSince?: number,
  ): Promise<Reservation> {
    await this.syncCapacity();
    if (this.free(executorClass) === 0 && this.slots.size > 0) {
      // As the original: before declining, look again at which executors are really still alive.
      await this.cleanup();
    }
    if (!(executorClass in this.capacity) || this.capacity[executorClass] === 0) {
      throw new AllExecutorsBusyError(executorClass, `this miner has no executors of class ${executorClass}`);
    }
    // No await between these checks and the insert: two reservations cannot take one slot.
    if (unchangedSince !== undefined && this.revision(executorClass) !== unchangedSince) throw new PoolChangedError(executorClass);
    if (this.free(executorClass) === 0) throw new AllExecutorsBusyError(executorClass);
    const slot: Slot = { token, executorClass, holder, reservedAt: this.clock.now(), handle: null, killRequested: false, dying: false };
    this.addSlot(slot);
    this.logger.debug({ token, executorClass }, 'executor slot reserved');
    const started = this.launch(slot, ctx);
    started.catch(() => {}); // the caller handles it; never an unhandled rejection meanwhile
    return { started };
  }

  private async launch(slot: Slot, ctx: ExecutorStartContext): Promise<ExecutorHandle> {
    let handle: ExecutorHandle;
    try {
      handle = await this.startWithinLimit(slot, ctx);
    } catch (error) {
      this.removeSlot(slot);
      this.logger.error({ err: error, token: slot.token, executorClass: slot.executorClass }, 'executor failed to start');
      throw new ExecutorUnavailableError(slot.executorClass, error);
    }
    slot.handle = handle;
    this.logger.info({ token: slot.token, executorClass: slot.executorClass, executor: handle.id }, 'executor started');
    if (slot.killRequested || this.stop.signal.aborted) await this.killSlot(slot, 'killed');
    return handle;
  }

  /**
   * `manager.start`, bounded by the class's spin-up plus the startup limit: a start that hangs
   * would otherwise hold its slot for ever (the TTL only sees executors with a handle). An
   * executor handed back after the limit is killed at once: nobody is waiting for it.
   */
  private startWithinLimit(slot: Slot, ctx: ExecutorStartContext): Promise<ExecutorHandle> {
    const limitMs = Math.max(0, ctx.timeoutSeconds) * 1000 + this.startupLimitMs;
    const starting = Promise.resolve().then(() => this.manager.start(slot.token, slot.executorClass, ctx));
    const timer = new AbortController();
    let timedOut = false;
    const deadline = this.clock.sleep(limitMs, timer.signal).then(
      () => {
        timedOut = true;
        throw new ExecutorStartTimeoutError(`the executor manager did not start it within ${limitMs} ms (spin-up + startup limit)`);
      },
      () => new Promise<never>(() => undefined), // cancelled: the start settled first
    );
    starting.then(
      (late) => {
        if (!timedOut) return;
        this.logger.warn(
          { token: slot.token, executorClass: slot.executorClass, executor: late.id },
          'executor started after its start timed out; killing it',
        );
        this.manager.kill(late).catch((error: unknown) => {
          this.logger.error({ err: error, token: slot.token, executor: late.id }, 'could not kill an executor that started too late');
        });
      },
      () => undefined, // reported by the race below, or nobody waits any more
    );
    return Promise.race([starting, deadline]).finally(() => timer.abort(TIMER_NOT_NEEDED));
  }

  /** Kills the executor holding `token` (if any) and frees its slot. */
  async kill(token: string): Promise<void> {
    const slot = this.slots.get(token);
    if (!slot) return;
    if (!slot.handle) {
      // Still being started: kill it as soon as the manager hands back its handle.
      slot.killRequested = true;
      return;
    }
    await this.killSlot(slot, 'killed');
  }

  /**
   * The job of `token` ended (its executor sent its final message): the slot is free for the next
   * reservation now, while the executor exits on its own in the background (bounded by
   * `drainLimitMs`, then killed). The pool reports nothing more about it: `onExecutorGone` fires
   * here, with reason `released`. A token still starting, being killed, or unknown is left as is,
   * and so is every token of a manager without `startsWhileCleaningUp`.
   */
  release(token: string): void {
    // A manager that needs the old executor gone before it can start another keeps the slot held until the exit.
    if (this.manager.startsWhileCleaningUp !== true) return;
    const slot = this.slots.get(token);
    if (!slot || !slot.handle || slot.dying || slot.killRequested) return;
    this.removeSlot(slot);
    this.manager.released?.(slot.handle);
    this.addDraining({ token, executorClass: slot.executorClass, handle: slot.handle, releasedAt: this.clock.now() });
    this.logger.debug(
      { token, executorClass: slot.executorClass, executor: slot.handle.id },
      'executor slot released; executor cleaning up in the background',
    );
    this.onExecutorGone({ token, executorClass: slot.executorClass, reason: 'released' });
  }

  /** Whether `token` still holds a slot (starting or running). */
  has(token: string): boolean {
    return this.slots.has(token);
  }

  handle(token: string): ExecutorHandle | null {
    return this.slots.get(token)?.handle ?? null;
  }

  /** Capacity and use per class, for metrics and the status page. */
  usage(): Record<string, PoolClassUsage> {
    const usage: Record<string, PoolClassUsage> = {};
    const classes = new Set([
      ...Object.keys(this.capacity),
      ...[...this.slotsPerClass.entries()].map(([executorClass]) => executorClass),
      ...[...this.drainingPerClass.entries()].map(([executorClass]) => executorClass),
    ]);
    for (const executorClass of classes) {
      usage[executorClass] = {
        capacity: this.capacity[executorClass] ?? 0,
        used: this.slotsPerClass.get(executorClass),
        draining: this.drainingCount(executorClass),
      };
    }
    return usage;
  }

  /** Slots (starting or running) per executor class and holder, every class (the metrics' view). */
  *holdings(): IterableIterator<ExecutorHolding> {
    // `Counts` keeps no zero counts; a slot reserved without a holder ('') is nobody's.
    for (const [executorClass, held] of this.heldByClass)
      for (const [validatorHotkey, count] of held.entries())
        if (validatorHotkey !== '') yield { executorClass, validatorHotkey, held: count };
  }

  /** Slots (starting or running) of `executorClass` per holder given to `reserve`; a copy. */
  holders(executorClass: string): Map<string, number> {
    return this.heldByClass.get(executorClass)?.toMap() ?? new Map();
  }

  /** Polls every live executor once: frees exited ones, kills expired ones. */
  cleanup(): Promise<void> {
    // One cleanup at a time; a caller arriving during one waits for it.
    this.cleanupRun ??= this.runCleanup().finally(() => {
      this.cleanupRun = null;
    });
    return this.cleanupRun;
  }

  /** Stops the loop and kills every executor. */
  async close(): Promise<void> {
    this.stop.abort();
    await this.loop;
    await this.cleanupRun;
    await Promise.all([...this.slots.values()].map((slot) => (slot.handle ? this.killSlot(slot, 'killed') : undefined)));
    await Promise.all([...this.draining.values()].map((drain) => this.killDraining(drain)));
  }

  /** Executors that were released and are still cleaning up, per class (status page, tests). */
  drainingCount(executorClass: string): number {
    return this.drainingPerClass.get(executorClass);
  }

  private free(executorClass: string): number {
    const capacity = this.capacity[executorClass] ?? 0;
    let used = this.slotsPerClass.get(executorClass);
    // A few draining executors per slot ride free; more than that (cleanups that do not end)
    // take slots, so a stuck cleanup cannot multiply what the machine runs.
    used += Math.max(0, this.drainingCount(executorClass) - capacity * MAX_DRAINING_PER_SLOT);
    return Math.max(0, capacity - used);
  }

  private addSlot(slot: Slot): void {
    this.slots.set(slot.token, slot);
    this.slotsPerClass.add(slot.executorClass);
    this.changesPerClass.add(slot.executorClass);
    let held = this.heldByClass.get(slot.executorClass);
    if (!held) this.heldByClass.set(slot.executorClass, (held = new Counts()));
    held.add(slot.holder);
  }

  private removeSlot(slot: Slot): void {
    // Only the slot object that holds the token: a stale one must not drop a newer holder.
    if (this.slots.get(slot.token) !== slot) return;
    this.slots.delete(slot.token);
    this.slotsPerClass.remove(slot.executorClass);
    this.changesPerClass.add(slot.executorClass);
    this.heldByClass.get(slot.executorClass)?.remove(slot.holder);
  }

  private addDraining(drain: Draining): void {
    if (this.draining.has(drain.token)) this.removeDraining(this.draining.get(drain.token)!);
    this.draining.set(drain.token, drain);
    this.drainingPerClass.add(drain.executorClass);
    this.changesPerClass.add(drain.executorClass);
  }

  private removeDraining(drain: Draining): void {
    if (this.draining.get(drain.token) !== drain) return;
    this.draining.delete(drain.token);
    this.drainingPerClass.remove(drain.executorClass);
    this.changesPerClass.add(drain.executorClass);
  }

  private async syncCapacity(): Promise<void> {
    // A class that left the manifest gets no new reservations; its live executors run on.
    const capacity = { ...(await this.manager.manifest()) };
    for (const executorClass of new Set([...Object.keys(this.capacity), ...Object.keys(capacity)]))
      if (this.capacity[executorClass] !== capacity[executorClass]) this.changesPerClass.add(executorClass);
    this.capacity = capacity;
  }

  private async runCleanup(): Promise<void> {
    const now = this.clock.now();
    const live = [...this.slots.values()].filter((slot) => slot.handle !== null && !slot.dying);
    // A poll not answered within the round's time counts as "still running" this round. One timer
    // for the round (not one per poll: thousands of timers a second), which settles the polls
    // left unanswered; each poll waits on its own answer only. Racing each against one shared
    // deadline, and an async step per slot to yield, allocated more: with ~7,000 live executors the
    // rounds' garbage per accepted job went 187 → 110 KB (miner-validators, steady load).
    const unanswered = new Set<(status: null) => void>();
    const timer = setTimeout(() => {
      for (const settle of unanswered) settle(null);
    }, POLL_TIMEOUT_MS);
    const checks: Promise<void>[] = [];
    let started = 0;
    try {
      for (const drain of [...this.draining.values()]) {
        if (++started % POLLS_PER_TURN === 0) await nextTurn();
        checks.push(handledLater(this.checkDraining(drain, now, unanswered)));
      }
      for (const slot of live) {
        if (++started % POLLS_PER_TURN === 0) await nextTurn();
        if (!this.slots.has(slot.token) || slot.dying) continue; // killed while the round yielded
        checks.push(handledLater(this.checkLive(slot, now, unanswered)));
      }
      await Promise.all(checks);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A live executor: freed once it exited, killed once it outlived the TTL. */
  private async checkLive(slot: Slot, now: number, unanswered: Set<(status: null) => void>): Promise<void> {
    const status = await this.pollWithin(slot.token, slot.handle!, unanswered);
    if (!this.slots.has(slot.token) || slot.dying) return; // killed meanwhile
    if (status?.state === 'exited') {
      this.removeSlot(slot);
      this.logger.info(
        { token: slot.token, executorClass: slot.executorClass, exitCode: status.exitCode, reason: status.reason },
        'executor exited',
      );
      this.onExecutorGone({ token: slot.token, executorClass: slot.executorClass, reason: 'exited', status });
      this.releaseRecords(slot.handle!);
    } else if (now - slot.reservedAt > this.ttlMs) {
      this.logger.warn(
        { token: slot.token, executorClass: slot.executorClass, ttlMs: this.ttlMs },
        'executor outlived its TTL; killing it',
      );
      this.onExecutorExpiring({ token: slot.token, executorClass: slot.executorClass });
      await this.killSlot(slot, 'expired');
    }
  }

  /** A released executor: forgotten once it exited, killed once it outlived the drain limit. */
  private async checkDraining(drain: Draining, now: number, unanswered: Set<(status: null) => void>): Promise<void> {
    const status = await this.pollWithin(drain.token, drain.handle, unanswered);
    if (!this.draining.has(drain.token)) return;
    if (status?.state === 'exited') {
      this.removeDraining(drain);
      this.logger.debug(
        { token: drain.token, executor: drain.handle.id, exitCode: status.exitCode },
        'released executor finished its cleanup',
      );
      this.releaseRecords(drain.handle);
      return;
    }
    if (now - drain.releasedAt > this.drainLimitMs) {
      this.logger.warn(
        { token: drain.token, executor: drain.handle.id, drainLimitMs: this.drainLimitMs },
        'released executor still running past the drain limit; killing it',
      );
      await this.killDraining(drain);
    }
  }

  private async killDraining(drain: Draining): Promise<void> {
    try {
      await this.manager.kill(drain.handle);
    } catch (error) {
      this.logger.error({ err: error, token: drain.token, executor: drain.handle.id }, 'could not kill a released executor');
    }
    this.removeDraining(drain);
  }

  /**
   * An executor that exited on its own still gets `kill` (harmless for an exited executor, by the
   * contract): the manager's cue to drop what it keeps for it (process records, a rented machine),
   * which would otherwise pile up one per job. Not awaited: the cleanup loop does not wait on it.
   */
  private releaseRecords(handle: ExecutorHandle): void {
    this.manager.kill(handle).catch((error: unknown) => {
      this.logger.warn({ err: error, executor: handle.id }, 'could not release an exited executor');
    });
  }

  /**
   * `manager.poll`, or null (still running, for this round) when the poll fails or the round's
   * timer settles it first (through `unanswered`, where it waits until answered).
   */
  private pollWithin(token: string, handle: ExecutorHandle, unanswered: Set<(status: null) => void>): Promise<ExecutorStatus | null> {
    return new Promise((resolve) => {
      const answer = (status: ExecutorStatus | null) => {
        unanswered.delete(resolve);
        resolve(status);
      };
      const failed = (error: unknown) => {
        this.logger.error({ err: error, token, executor: handle.id }, 'executor poll failed');
        answer(null);
      };
      unanswered.add(resolve);
      try {
        this.manager.poll(handle).then(answer, failed);
      } catch (error) {
        failed(error); // a manager whose poll throws instead of rejecting
      }
    });
  }

  private async killSlot(slot: Slot, reason: ExecutorGoneReason): Promise<void> {
    if (slot.dying || !this.slots.has(slot.token)) return;
    slot.dying = true;
    try {
      if (slot.handle) await this.manager.kill(slot.handle);
    } catch (error) {
      this.logger.error({ err: error, token: slot.token, executor: slot.handle?.id }, 'executor kill failed');
    }
    // The slot is freed only once the manager says the executor is gone, so it is never handed
    // out twice while the old executor still runs.
    this.removeSlot(slot);
    this.logger.info({ token: slot.token, executorClass: slot.executorClass, reason }, 'executor removed from the pool');
    this.onExecutorGone({ token: slot.token, executorClass: slot.executorClass, reason });
  }
}

/**
 * The check, with a handler attached now: the round yields between polls and awaits them all only
 * at its end, and a check that rejected meanwhile would be an unhandled rejection (which ends the
 * process). `Promise.all` still sees the rejection.
 */
function handledLater<T>(check: Promise<T>): Promise<T> {
  check.catch(ignore);
  return check;
}

function ignore(): void {}
