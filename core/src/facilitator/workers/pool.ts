import type { Clock, Logger, Store } from '../../contracts/index.js';
import type { FacilitatorWorkersSection } from '../../config/sections/facilitator.js';
import type { JobUpdateSignal } from '../job-updates.js';
import type { FacilitatorStore } from '../store.js';
import type { ValidatorHub } from '../validator-hub.js';
import { parseAnnouncement, type Announcement, type WorkerDispatch } from './dispatch.js';
import { FacilitatorWorkersError } from './errors.js';
import { FacilitatorWorkerSession } from './session.js';

/** The NOTIFY channel of the facilitator workers of one database. */
export const ANNOUNCE_CHANNEL = 'horde_facilitator_workers';

/** Overdue jobs ended per sweep (the rest wait for the next one). */
const OVERDUE_BATCH = 100;

export interface FacilitatorWorkersOptions {
  readonly store: Store;
  readonly settings: FacilitatorWorkersSection;
  readonly logger: Logger;
  readonly clock: Clock;
}

/**
 * One facilitator worker's part of the pool. The store is the truth: a job is in
 * `facilitator_jobs` from the moment it is accepted, and its send is a claim there (see
 * `ValidatorHub`). PostgreSQL LISTEN/NOTIFY carries the announcements ("a job waits for validator
 * V"), so the worker holding V's socket sends it at once; a lost announcement only costs latency,
 * since every worker sweeps every `pollSeconds` for the jobs of its validators that no live worker
 * sent, and ends the jobs past their deadline (one worker wins each, by the job's row lock).
 */
export class FacilitatorWorkers implements WorkerDispatch {
  private hub: ValidatorHub | null = null;
  private updates: JobUpdateSignal | null = null;
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly log: Logger;

  private constructor(
    private readonly options: FacilitatorWorkersOptions,
    private readonly session: FacilitatorWorkerSession,
  ) {
    this.log = options.logger.child({ component: 'facilitator-workers', workerPid: session.pid, pid: process.pid });
  }

  /** Opens the worker's session; PostgreSQL only (SQLite is one process's store). */
  static async open(options: FacilitatorWorkersOptions): Promise<FacilitatorWorkers> {
    if (options.store.dialect !== 'postgres') {
      throw new FacilitatorWorkersError(
        'HORDE_FACILITATOR_WORKERS_NEED_POSTGRES',
        'facilitator.workers needs store.client "postgres" with store.url: the workers share jobs and claims through PostgreSQL (SQLite serves one process only)',
      );
    }
    return new FacilitatorWorkers(options, await FacilitatorWorkerSession.open(options.store.db, options.logger));
  }

  get pid(): number {
    return this.session.pid;
  }

  alive(pids: readonly number[]): Promise<Set<number>> {
    return this.session.alive(pids);
  }

  async announce(announcement: Announcement): Promise<void> {
    await this.options.store.db.raw('select pg_notify(?, ?)', [ANNOUNCE_CHANNEL, JSON.stringify(announcement)]);
  }

  onSessionLost(listener: (error: Error) => void): void {
    this.session.onLost(listener);
  }

  /** Starts listening and sweeping for `hub` (whose validators' sockets are this worker's); `updates` wakes this worker's waiting clients. */
  async start(hub: ValidatorHub, store: FacilitatorStore, updates: JobUpdateSignal): Promise<void> {
    this.hub = hub;
    this.updates = updates;
    await this.session.listen(ANNOUNCE_CHANNEL, (payload) => {
      const announcement = parseAnnouncement(payload);
      if (!announcement) {
        this.log.warn({ payload: payload?.slice(0, 200) }, 'ignored an announcement that is not one');
        return;
      }
      if (announcement.kind === 'status') {
        this.updates?.notify(announcement.uuid);
        return;
      }
      hub
        .announced(announcement.validatorHotkey, announcement.kind === 'job' ? announcement.uuid : null)
        .catch((error: unknown) => this.log.warn({ err: (error as Error).message, ...announcement }, 'could not act on an announcement'));
    });
    const tick = () => {
      this.sweeping = this.sweep(store)
        .catch((error: unknown) => this.log.warn({ err: (error as Error).message }, 'facilitator worker sweep failed'))
        .finally(() => {
          if (!this.closed) this.timer = setTimeout(tick, this.options.settings.pollSeconds * 1000);
        });
    };
    tick();
    this.log.info('facilitator worker joined the pool');
  }

  private async sweep(store: FacilitatorStore): Promise<void> {
    if (this.closed || this.session.isLost) return;
    await this.hub?.sweep();
    const { clock, settings } = this.options;
    const now = clock.now();
    for (const job of await store.overdueJobs(now, settings.deadlineSlackSeconds * 1000, OVERDUE_BATCH)) {
      const reason = `no final status from validator ${job.targetValidatorHotkey} within the job's time limits plus ${settings.deadlineSlackSeconds} s`;
      if (!(await store.endAsFailed(job.uuid, reason, now))) continue;
      await this.hub?.statusStored(job.uuid, job.targetValidatorHotkey);
      this.log.warn(
        { jobUuid: job.uuid, validatorHotkey: job.targetValidatorHotkey, status: job.status },
        'job past its deadline ended as failed',
      );
    }
  }

  /** Stops sweeping and listening; the caller closes the sockets. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.sweeping;
    await this.session.close();
  }
}
