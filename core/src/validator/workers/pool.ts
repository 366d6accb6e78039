import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import PgBoss from 'pg-boss';
import type { Clock, Logger, Store } from '../../contracts/index.js';
import type { WorkersSection } from '../../config/sections/validator.js';
import { BatchAbortedError } from '../errors.js';
import type { MinerTarget } from '../miner-client.js';
import { ValidatorWorkersError } from './errors.js';
import { WorkerSession, advisoryKeys } from './session.js';
import { BatchTaskStore, planTasks, type BatchTaskResult, type BatchTaskRow } from './task-store.js';

/**
 * What a worker does with one task: run the batch's jobs on these miners and store their outcomes;
 * `onPlanned` with the task's job count once it is known (before the jobs are sent).
 */
export type BatchTaskRunner = (
  cycle: number,
  targets: readonly MinerTarget[],
  signal: AbortSignal,
  onPlanned: (jobs: number) => void,
) => Promise<BatchTaskResult>;

/** The batch summary the leader adds up from its tasks. */
export interface DistributedBatchSummary extends BatchTaskResult {
  readonly tasks: number;
  readonly failedTasks: number;
}

export interface ValidatorWorkerPoolOptions {
  readonly store: Store;
  /** PostgreSQL URL of `store` (pg-boss opens its own small pool). */
  readonly url: string;
  readonly validatorHotkey: string;
  readonly settings: WorkersSection;
  readonly logger: Logger;
  readonly clock: Clock;
}

interface TaskData {
  readonly cycle: number;
  readonly task: number;
}

const FINAL_STATES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled']);

/**
 * One validator worker's link to the pool of workers of its hotkey: its own PostgreSQL session
 * (identity and leader lock, `session.ts`), the pg-boss queue of batch tasks, and the plan of each
 * batch (`task-store.ts`).
 *
 * - Leadership: `tryLead()` takes the hotkey's advisory lock; the leader alone does the cycle work
 *   (plans batches, scores, sets and reveals weights, transfers receipts). When it dies, the lock
 *   goes with its session and the next worker to try takes over, resuming a running batch from its
 *   plan instead of starting it again.
 * - Tasks: every worker runs `tasksPerWorker` tasks at once from the queue. A task's worker is
 *   recorded; the leader fails the queue job of a task whose worker's session is gone, and pg-boss
 *   retries it on another worker (`taskRetries`), or ends it failed. A hung worker's task expires
 *   after `taskTimeoutSeconds` and is retried the same way.
 */
export class ValidatorWorkerPool {
  readonly queue: string;
  readonly name: string;
  private readonly tasks: BatchTaskStore;
  private readonly log: Logger;
  private working = false;

  private constructor(
    private readonly options: ValidatorWorkerPoolOptions,
    private readonly session: WorkerSession,
    private readonly boss: PgBoss,
  ) {
    this.queue = `horde-validator-batch-${options.validatorHotkey}`;
    this.name = `${hostname()}:${process.pid}`;
    this.tasks = new BatchTaskStore(options.store, options.validatorHotkey);
    this.log = options.logger.child({ worker: this.name, workerPid: session.pid });
  }

  static async open(options: ValidatorWorkerPoolOptions): Promise<ValidatorWorkerPool> {
    if (options.store.dialect !== 'postgres') {
      throw new ValidatorWorkersError(
        'HORDE_VALIDATOR_WORKERS_NEED_POSTGRES',
        'validator workers share their work through PostgreSQL: set store.client to "postgres" and store.url (SQLite serves one process only)',
      );
    }
    const log = options.logger.child({ component: 'validator-workers' });
    const session = await WorkerSession.open(options.store.db as Knex, log);
    const boss = new PgBoss({ connectionString: options.url, max: 4, application_name: 'horde-validator-worker', schedule: false });
    boss.on('error', (error: Error) => log.error({ err: error.message }, 'task queue error'));
    try {
      // Workers started together (`--workers N`) would create the queue together, and pg-boss's
      // create_queue (insert the queue row, attach its partition to pgboss.job) deadlocks against
      // itself: one at a time, under an advisory lock held by a transaction of the store (released
      // at its end, or by PostgreSQL if this process dies meanwhile).
      await (options.store.db as Knex).transaction(async (trx) => {
        await trx.raw('SELECT pg_advisory_xact_lock(?, ?)', advisoryKeys('horde-validator-queue-setup'));
        await boss.start();
        const queue = `horde-validator-batch-${options.validatorHotkey}`;
        await boss.createQueue(queue, {
          name: queue,
          policy: 'standard',
          retryLimit: options.settings.taskRetries,
          retryDelay: 0,
          expireInSeconds: options.settings.taskTimeoutSeconds,
        });
      });
    } catch (error) {
      await session.close();
      await boss.stop({ graceful: false, wait: false }).catch(() => undefined);
      throw new ValidatorWorkersError(
        'HORDE_VALIDATOR_WORKERS_QUEUE',
        `the pg-boss task queue did not start: ${(error as Error).message}`,
        { cause: error },
      );
    }
    return new ValidatorWorkerPool(options, session, boss);
  }

  /** This worker's PostgreSQL backend pid (its name in `validator_batch_tasks.worker_pid`). */
  get pid(): number {
    return this.session.pid;
  }

  /** Which of these worker session pids are connected now (a pid gone is a dead worker). */
  alive(pids: readonly number[]): Promise<Set<number>> {
    return this.session.alive(pids);
  }

  get isLeader(): boolean {
    return this.session.isLeader;
  }

  /** Called once if the worker's session dies: it is no longer leader, and its tasks will be retried elsewhere. */
  onSessionLost(listener: (error: Error) => void): void {
    this.session.onLost(listener);
  }

  /** Takes the leader lock of this hotkey if it is free; true while this worker leads. */
  async tryLead(): Promise<boolean> {
    const was = this.session.isLeader;
    const now = await this.session.tryLead(`horde-validator-leader:${this.options.validatorHotkey}`);
    if (now && !was) this.log.info('this worker now leads the validator: cycle work (batch plans, scoring, weights, reveals) runs here');
    return now;
  }

  /** Starts taking tasks from the queue (`tasksPerWorker` at once). */
  async serveTasks(run: BatchTaskRunner, signal: AbortSignal): Promise<void> {
    if (this.working) return;
    this.working = true;
    const pollingIntervalSeconds = Math.max(0.5, this.options.settings.pollSeconds);
    for (let i = 0; i < this.options.settings.tasksPerWorker; i++) {
      await this.boss.work<TaskData>(this.queue, { batchSize: 1, pollingIntervalSeconds }, async ([job]) => {
        if (!job) return null;
        return this.runTask(job.data, run, signal);
      });
    }
  }

  private async runTask(data: TaskData, run: BatchTaskRunner, signal: AbortSignal): Promise<BatchTaskResult> {
    const { clock } = this.options;
    const row = (await this.tasks.tasks(data.cycle)).find((task) => task.task === data.task);
    if (!row) {
      // The plan was replaced (a new leader planned the cycle again): nothing to do for this job.
      this.log.warn({ cycle: data.cycle, task: data.task }, 'task not in the batch plan any more; skipped');
      return { miners: 0, jobs: 0, outcomes: {}, durationMs: 0, longestJobMs: 0, overheadMs: 0 };
    }
    await this.tasks.claim(data.cycle, data.task, this.session.pid, this.name, clock.now());
    this.log.info({ cycle: data.cycle, task: data.task, miners: row.targets.length, attempt: row.attempts + 1 }, 'batch task started');
    const onPlanned = (jobs: number) =>
      void this.tasks
        .planned(data.cycle, data.task, jobs, clock.now())
        .catch((error: unknown) =>
          this.log.warn({ cycle: data.cycle, task: data.task, err: (error as Error).message }, 'could not record the planned job count'),
        );
    const result = await run(data.cycle, row.targets, signal, onPlanned);
    await this.tasks.finish(data.cycle, data.task, result, clock.now());
    this.log.info({ cycle: data.cycle, task: data.task, jobs: result.jobs, outcomes: result.outcomes }, 'batch task finished');
    return result;
  }

  /**
   * The leader's part of a batch: plans it (or resumes the plan a previous leader left), sends the
   * tasks to the queue, and waits until every task is final, failing the queue job of any task whose
   * worker died so the queue runs it again elsewhere. Resolves with the batch's summary.
   * `onPlanned` gets the task count once the plan is stored; `onJobsPlanned` the batch's job count,
   * once, as soon as every task has planned its jobs or ended (at the batch's end at the latest).
   */
  async runBatch(
    cycle: number,
    targets: readonly MinerTarget[],
    signal: AbortSignal,
    onPlanned?: (tasks: number) => void,
    onJobsPlanned?: (jobs: number) => void,
  ): Promise<DistributedBatchSummary> {
    const { clock, settings } = this.options;
    const startedAt = clock.now();
    let plan = await this.tasks.tasks(cycle);
    if (plan.length > 0) {
      this.log.info({ cycle, tasks: plan.length }, 'resuming the batch a previous leader planned');
    } else {
      const split = planTasks(targets, settings.minersPerTask).map((group, task) => ({ task, queueJobId: randomUUID(), targets: group }));
      await this.tasks.savePlan(cycle, split, clock.now());
      plan = await this.tasks.tasks(cycle);
      this.log.info({ cycle, miners: targets.length, tasks: plan.length }, 'batch planned');
    }
    onPlanned?.(plan.length);
    for (const task of plan) await this.sendTask(task);

    const final = new Map<number, string>();
    const failedFor = new Set<string>();
    let jobsReported = false;
    while (final.size < plan.length) {
      if (signal.aborted) throw new BatchAbortedError();
      const rows = await this.tasks.tasks(cycle);
      const suspects: Array<{ row: BatchTaskRow; retryCount: number }> = [];
      for (const row of rows) {
        if (final.has(row.task)) continue;
        const job = await this.boss.getJobById<TaskData>(this.queue, row.queueJobId);
        if (!job) {
          await this.sendTask(row);
          continue;
        }
        if (FINAL_STATES.has(job.state)) {
          final.set(row.task, job.state);
          if (job.state !== 'completed')
            this.log.warn(
              { cycle, task: row.task, state: job.state, miners: row.targets.length },
              'batch task ended without finishing; its miners have no outcome this cycle',
            );
          continue;
        }
        // Only the claim of this very attempt counts: a new attempt not yet claimed still shows the last worker.
        if (job.state === 'active' && row.workerPid !== null && row.attempts === job.retryCount + 1)
          suspects.push({ row, retryCount: job.retryCount });
      }
      if (!jobsReported && rows.every((row) => row.plannedJobs !== null || final.has(row.task))) {
        jobsReported = true;
        onJobsPlanned?.(rows.reduce((sum, row) => sum + (row.plannedJobs ?? 0), 0));
      }
      const alive = await this.session.alive(suspects.map((suspect) => suspect.row.workerPid!));
      for (const { row, retryCount } of suspects) {
        const key = `${row.queueJobId}:${retryCount}`;
        if (alive.has(row.workerPid!) || failedFor.has(key)) continue;
        failedFor.add(key);
        this.log.warn(
          { cycle, task: row.task, deadWorker: row.workerName, deadWorkerPid: row.workerPid, attempt: row.attempts },
          'the worker running this task is gone; the queue runs it again elsewhere',
        );
        await this.boss.fail(this.queue, row.queueJobId, { message: `worker ${row.workerName ?? '?'} (session ${row.workerPid}) died` });
      }
      if (final.size < plan.length) await clock.sleep(settings.pollSeconds * 1000, signal).catch(() => undefined);
    }
    const ended = await this.tasks.tasks(cycle);
    if (!jobsReported) onJobsPlanned?.(ended.reduce((sum, row) => sum + (row.plannedJobs ?? 0), 0));
    const results = ended.map((row) => row.result).filter((result): result is BatchTaskResult => result !== null);
    const outcomes: Record<string, number> = {};
    for (const result of results)
      for (const [status, count] of Object.entries(result.outcomes)) outcomes[status] = (outcomes[status] ?? 0) + count;
    return {
      tasks: plan.length,
      failedTasks: plan.length - results.length,
      miners: results.reduce((sum, result) => sum + result.miners, 0),
      jobs: results.reduce((sum, result) => sum + result.jobs, 0),
      outcomes,
      durationMs: clock.now() - startedAt,
      longestJobMs: Math.max(0, ...results.map((result) => result.longestJobMs)),
      overheadMs: Math.max(0, ...results.map((result) => result.overheadMs)),
    };
  }

  /** Sends a task's queue job; a job id already in the queue is not sent twice (pg-boss ignores it). */
  private async sendTask(task: BatchTaskRow): Promise<void> {
    await this.boss.send(this.queue, { cycle: task.cycle, task: task.task } satisfies TaskData, {
      id: task.queueJobId,
      retryLimit: this.options.settings.taskRetries,
      retryDelay: 0,
      expireInSeconds: this.options.settings.taskTimeoutSeconds,
    });
  }

  /**
   * Stops taking tasks, before the caller aborts the running ones: an aborted task goes back to the
   * queue for another worker, and this worker must not be the one that takes it again.
   */
  async stopTaking(): Promise<void> {
    if (!this.working) return;
    this.working = false;
    await this.boss
      .offWork(this.queue)
      .catch((error: unknown) => this.log.warn({ err: (error as Error).message }, 'could not stop taking tasks'));
  }

  /** Stops the queue (running tasks are left to the caller's abort), drops the session and its lock. */
  async close(): Promise<void> {
    await this.boss
      .stop({ graceful: true, wait: true, timeout: 5_000 })
      .catch((error: unknown) => this.log.warn({ err: (error as Error).message }, 'task queue did not stop cleanly'));
    await this.session.close();
  }
}
