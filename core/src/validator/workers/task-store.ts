import type { Knex } from 'knex';
import type { Store } from '../../contracts/index.js';
import { fromJsonColumn, toJsonColumn } from '../../store/json.js';
import type { BatchResult } from '../batch.js';
import type { MinerTarget } from '../miner-client.js';

/** What a finished task adds to its batch's summary: a batch result without its records. */
export type BatchTaskResult = Omit<BatchResult, 'cycle' | 'records'>;

export interface BatchTaskRow {
  readonly cycle: number;
  readonly task: number;
  readonly queueJobId: string;
  readonly targets: MinerTarget[];
  readonly workerPid: number | null;
  readonly workerName: string | null;
  readonly attempts: number;
  /** Jobs the task planned (null until its worker has its miners' manifests). */
  readonly plannedJobs: number | null;
  readonly result: BatchTaskResult | null;
}

const TABLE = 'validator_batch_tasks';

/** Table `validator_batch_tasks`: a batch's plan, one row per task (see the validator-h2-workers-0001 migration). */
export class BatchTaskStore {
  private readonly db: Knex;

  constructor(
    store: Store,
    private readonly validatorHotkey: string,
  ) {
    this.db = store.db;
  }

  /** Writes the plan of a cycle's batch (before its queue jobs are sent, so a new leader can resend them). */
  async savePlan(
    cycle: number,
    tasks: ReadonlyArray<{ task: number; queueJobId: string; targets: readonly MinerTarget[] }>,
    now: number,
  ): Promise<void> {
    const rows = tasks.map((task) => ({
      validator_hotkey: this.validatorHotkey,
      cycle,
      task: task.task,
      queue_job_id: task.queueJobId,
      targets: toJsonColumn(task.targets),
      updated_at: now,
    }));
    await this.db.transaction(async (trx) => {
      await trx(TABLE).where({ validator_hotkey: this.validatorHotkey, cycle }).delete();
      for (let i = 0; i < rows.length; i += 200) await trx(TABLE).insert(rows.slice(i, i + 200));
    });
  }

  async tasks(cycle: number): Promise<BatchTaskRow[]> {
    const rows = (await this.db(TABLE).where({ validator_hotkey: this.validatorHotkey, cycle }).orderBy('task')) as Array<
      Record<string, unknown>
    >;
    return rows.map((row) => ({
      cycle: Number(row['cycle']),
      task: Number(row['task']),
      queueJobId: row['queue_job_id'] as string,
      targets: fromJsonColumn<MinerTarget[]>(row['targets'] as string),
      workerPid: row['worker_pid'] === null ? null : Number(row['worker_pid']),
      workerName: (row['worker_name'] as string | null) ?? null,
      attempts: Number(row['attempts']),
      plannedJobs: row['planned_jobs'] === null || row['planned_jobs'] === undefined ? null : Number(row['planned_jobs']),
      result: row['result'] === null ? null : fromJsonColumn<BatchTaskResult>(row['result'] as string),
    }));
  }

  /** A worker takes a task: its session pid and name, one more attempt. */
  async claim(cycle: number, task: number, workerPid: number, workerName: string, now: number): Promise<void> {
    await this.db(TABLE)
      .where({ validator_hotkey: this.validatorHotkey, cycle, task })
      .update({ worker_pid: workerPid, worker_name: workerName, result: null, updated_at: now })
      .increment('attempts', 1);
  }

  /** The task's worker planned `jobs` jobs (a retried task writes its own count over the last). */
  async planned(cycle: number, task: number, jobs: number, now: number): Promise<void> {
    await this.db(TABLE).where({ validator_hotkey: this.validatorHotkey, cycle, task }).update({ planned_jobs: jobs, updated_at: now });
  }

  async finish(cycle: number, task: number, result: BatchTaskResult, now: number): Promise<void> {
    await this.db(TABLE)
      .where({ validator_hotkey: this.validatorHotkey, cycle, task })
      .update({ result: toJsonColumn(result), updated_at: now });
  }
}

/**
 * Splits a batch's miners into tasks of about `minersPerTask`, keeping every coldkey's hotkeys in
 * one task (the batch asks each coldkey's main hotkey once, and a coldkey's executors are tested
 * together), in target order.
 */
export function planTasks(targets: readonly MinerTarget[], minersPerTask: number): MinerTarget[][] {
  const groups = new Map<string, MinerTarget[]>();
  for (const target of targets) {
    const key = target.coldkey ?? `hotkey:${target.hotkey}`;
    const group = groups.get(key);
    if (group) group.push(target);
    else groups.set(key, [target]);
  }
  const tasks: MinerTarget[][] = [];
  let current: MinerTarget[] = [];
  for (const group of groups.values()) {
    if (current.length > 0 && current.length + group.length > minersPerTask) {
      tasks.push(current);
      current = [];
    }
    current.push(...group);
  }
  if (current.length > 0) tasks.push(current);
  return tasks;
}
