import type { Knex } from 'knex';
import { runQuery, transaction, writeTogether } from '../../store/direct.js';
import { fromJsonColumn, toJsonColumn } from '../../store/json.js';
import { toMillis, toMillisOrNull } from './rows.js';

/**
 * Where a job the miner answered stands (ComputeHorde's `AcceptedJob.Status`, lower case).
 * `waiting_for_executor`: accepted, executor starting; `waiting_for_payload`: executor ready,
 * waiting for `V0JobRequest`; `running`: job request passed on; then one end state.
 */
export type MinerJobStatus = 'waiting_for_executor' | 'waiting_for_payload' | 'running' | 'finished' | 'failed' | 'rejected';

export const ACTIVE_JOB_STATUSES: readonly MinerJobStatus[] = ['waiting_for_executor', 'waiting_for_payload', 'running'];

export function isActiveJobStatus(status: MinerJobStatus): boolean {
  return ACTIVE_JOB_STATUSES.includes(status);
}

export interface MinerJob {
  readonly jobUuid: string;
  readonly validatorHotkey: string;
  readonly minerHotkey: string;
  readonly executorClass: string;
  readonly executorToken: string;
  readonly status: MinerJobStatus;
  /** The V0InitialJobRequest as received (wire JSON object). */
  readonly initialJobDetails: Record<string, unknown>;
  /** The V0JobRequest as received, once it came. */
  readonly fullJobDetails: Record<string, unknown> | null;
  readonly executorAddress: string | null;
  readonly exitStatus: number | null;
  readonly stdout: string | null;
  readonly stderr: string | null;
  readonly artifacts: Record<string, string> | null;
  readonly uploadResults: Record<string, string> | null;
  readonly errorType: string | null;
  readonly errorDetail: string | null;
  readonly resultReportedAt: number | null;
  readonly timeTookUs: number | null;
  readonly scoreStr: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface NewMinerJob {
  readonly jobUuid: string;
  readonly validatorHotkey: string;
  readonly minerHotkey: string;
  readonly executorClass: string;
  readonly executorToken: string;
  readonly status: MinerJobStatus;
  readonly initialJobDetails: Record<string, unknown>;
}

/** Fields a status change may set beside the status. */
export interface MinerJobUpdate {
  readonly fullJobDetails?: Record<string, unknown>;
  readonly executorAddress?: string | null;
  readonly exitStatus?: number | null;
  readonly stdout?: string | null;
  readonly stderr?: string | null;
  readonly artifacts?: Record<string, string> | null;
  readonly uploadResults?: Record<string, string> | null;
  readonly errorType?: string | null;
  readonly errorDetail?: string | null;
  readonly resultReportedAt?: number | null;
  readonly timeTookUs?: number | null;
  readonly scoreStr?: string | null;
}

export interface JobStatusChange {
  readonly status: MinerJobStatus;
  readonly detail: string | null;
  readonly at: number;
}

interface JobRow {
  job_uuid: string;
  validator_hotkey: string;
  miner_hotkey: string;
  executor_class: string;
  executor_token: string;
  status: MinerJobStatus;
  initial_job_details: string;
  full_job_details: string | null;
  executor_address: string | null;
  exit_status: number | null;
  stdout: string | null;
  stderr: string | null;
  artifacts: string | null;
  upload_results: string | null;
  error_type: string | null;
  error_detail: string | null;
  result_reported_at: unknown;
  time_took_us: unknown;
  score_str: string | null;
  created_at: unknown;
  updated_at: unknown;
}

function jsonOrNull<T>(value: string | null): T | null {
  return value === null ? null : fromJsonColumn<T>(value);
}

function fromRow(row: JobRow): MinerJob {
  return {
    jobUuid: row.job_uuid,
    validatorHotkey: row.validator_hotkey,
    minerHotkey: row.miner_hotkey,
    executorClass: row.executor_class,
    executorToken: row.executor_token,
    status: row.status,
    initialJobDetails: fromJsonColumn(row.initial_job_details),
    fullJobDetails: jsonOrNull(row.full_job_details),
    executorAddress: row.executor_address,
    exitStatus: row.exit_status,
    stdout: row.stdout,
    stderr: row.stderr,
    artifacts: jsonOrNull(row.artifacts),
    uploadResults: jsonOrNull(row.upload_results),
    errorType: row.error_type,
    errorDetail: row.error_detail,
    resultReportedAt: toMillisOrNull(row.result_reported_at),
    timeTookUs: toMillisOrNull(row.time_took_us),
    scoreStr: row.score_str,
    createdAt: toMillis(row.created_at),
    updatedAt: toMillis(row.updated_at),
  };
}

function updateColumns(update: MinerJobUpdate): Record<string, unknown> {
  const columns: Record<string, unknown> = {};
  const json = (v: unknown) => (v === null ? null : toJsonColumn(v));
  if (update.fullJobDetails !== undefined) columns.full_job_details = json(update.fullJobDetails);
  if (update.executorAddress !== undefined) columns.executor_address = update.executorAddress;
  if (update.exitStatus !== undefined) columns.exit_status = update.exitStatus;
  if (update.stdout !== undefined) columns.stdout = update.stdout;
  if (update.stderr !== undefined) columns.stderr = update.stderr;
  if (update.artifacts !== undefined) columns.artifacts = json(update.artifacts);
  if (update.uploadResults !== undefined) columns.upload_results = json(update.uploadResults);
  if (update.errorType !== undefined) columns.error_type = update.errorType;
  if (update.errorDetail !== undefined) columns.error_detail = update.errorDetail;
  if (update.resultReportedAt !== undefined) columns.result_reported_at = update.resultReportedAt;
  if (update.timeTookUs !== undefined) columns.time_took_us = update.timeTookUs;
  if (update.scoreStr !== undefined) columns.score_str = update.scoreStr;
  return columns;
}

/** A job left one stage for the next (`MinerJobsRepository`'s `onStageEnded`; the stage-duration metric). */
export interface JobStageEnded {
  readonly jobUuid: string;
  readonly executorClass: string;
  /** The status the job was in: the stage that ended. */
  readonly stage: MinerJobStatus;
  readonly durationMs: number;
  /** The status it is in now. */
  readonly next: MinerJobStatus;
}

/** `miner_jobs` and its status history. Every status change writes one history row. */
export class MinerJobsRepository {
  constructor(
    private readonly db: Knex,
    private readonly now: () => number,
    private readonly onStageEnded?: (event: JobStageEnded) => void,
  ) {}

  /**
   * Inserts the job's row and its first status. `alongside`: more writes committed with them in
   * the same transaction, run first (the accept path's started receipt: one commit per accepted
   * job, not two); resolves with the rows each of those returned.
   */
  async create(job: NewMinerJob, detail: string | null = null, alongside: readonly Knex.QueryBuilder[] = []): Promise<unknown[][]> {
    const at = this.now();
    const results = await writeTogether(this.db, [
      ...alongside,
      this.db('miner_jobs').insert({
        job_uuid: job.jobUuid,
        validator_hotkey: job.validatorHotkey,
        miner_hotkey: job.minerHotkey,
        executor_class: job.executorClass,
        executor_token: job.executorToken,
        status: job.status,
        initial_job_details: toJsonColumn(job.initialJobDetails),
        created_at: at,
        updated_at: at,
      }),
      this.db('miner_job_status_history').insert({ job_uuid: job.jobUuid, status: job.status, detail, at }),
    ]);
    return results.slice(0, alongside.length);
  }

  async exists(jobUuid: string): Promise<boolean> {
    const rows = await runQuery(this.db, this.db('miner_jobs').where({ job_uuid: jobUuid }).select('job_uuid').limit(1));
    return rows.length > 0;
  }

  /** Sets the status (with a history row) and any other fields given. */
  async setStatus(jobUuid: string, status: MinerJobStatus, update: MinerJobUpdate = {}, detail: string | null = null): Promise<void> {
    const at = this.now();
    let ended: JobStageEnded | null = null;
    await transaction(this.db, async (run) => {
      if (this.onStageEnded) {
        const [job] = await run<{ executor_class: string }>(
          this.db('miner_jobs').where({ job_uuid: jobUuid }).select('executor_class').limit(1),
        );
        const [previous] = await run<{ status: MinerJobStatus; at: unknown }>(
          this.db('miner_job_status_history').where({ job_uuid: jobUuid }).orderBy('id', 'desc').select('status', 'at').limit(1),
        );
        if (job && previous && previous.status !== status) {
          ended = {
            jobUuid,
            executorClass: job.executor_class,
            stage: previous.status,
            durationMs: at - toMillis(previous.at),
            next: status,
          };
        }
      }
      await run(
        this.db('miner_jobs')
          .where({ job_uuid: jobUuid })
          .update({ ...updateColumns(update), status, updated_at: at }),
      );
      await run(this.db('miner_job_status_history').insert({ job_uuid: jobUuid, status, detail, at }));
    });
    if (ended) this.onStageEnded?.(ended);
  }

  /** Sets fields without a status change (e.g. the score from the finished receipt). */
  async update(jobUuid: string, update: MinerJobUpdate): Promise<void> {
    const columns = updateColumns(update);
    if (Object.keys(columns).length === 0) return;
    await runQuery(
      this.db,
      this.db('miner_jobs')
        .where({ job_uuid: jobUuid })
        .update({ ...columns, updated_at: this.now() }),
    );
  }

  async get(jobUuid: string): Promise<MinerJob | null> {
    const row = (await this.db('miner_jobs').where({ job_uuid: jobUuid }).first()) as JobRow | undefined;
    return row ? fromRow(row) : null;
  }

  async history(jobUuid: string): Promise<JobStatusChange[]> {
    const rows = (await this.db('miner_job_status_history')
      .where({ job_uuid: jobUuid })
      .orderBy('id', 'asc')
      .select('status', 'detail', 'at')) as { status: MinerJobStatus; detail: string | null; at: unknown }[];
    return rows.map((r) => ({ status: r.status, detail: r.detail, at: toMillis(r.at) }));
  }

  /** The most recent jobs (any status, any validator), newest first: the dashboard's job list. */
  async recent(limit: number): Promise<MinerJob[]> {
    const rows = (await this.db('miner_jobs')
      .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'job_uuid' }])
      .limit(limit)) as JobRow[];
    return rows.map(fromRow);
  }

  /** Status histories of several jobs at once (one query), oldest change first. */
  async histories(jobUuids: readonly string[]): Promise<Map<string, JobStatusChange[]>> {
    const histories = new Map<string, JobStatusChange[]>(jobUuids.map((uuid) => [uuid, []]));
    if (jobUuids.length === 0) return histories;
    const rows = (await this.db('miner_job_status_history')
      .whereIn('job_uuid', [...jobUuids])
      .orderBy('id', 'asc')
      .select('job_uuid', 'status', 'detail', 'at')) as { job_uuid: string; status: MinerJobStatus; detail: string | null; at: unknown }[];
    for (const r of rows) histories.get(r.job_uuid)?.push({ status: r.status, detail: r.detail, at: toMillis(r.at) });
    return histories;
  }

  /** Jobs still in progress (any validator), oldest first. */
  async active(): Promise<MinerJob[]> {
    const rows = (await this.db('miner_jobs')
      .whereIn('status', ACTIVE_JOB_STATUSES as MinerJobStatus[])
      .orderBy('created_at', 'asc')) as JobRow[];
    return rows.map(fromRow);
  }

  /**
   * Marks every job still in progress as failed. Called at start: executors of a previous miner
   * process are not ours any more, so nothing will ever finish those jobs.
   */
  async failActive(errorType: string, errorDetail: string): Promise<number> {
    const stale = await this.active();
    for (const job of stale) {
      await this.setStatus(job.jobUuid, 'failed', { errorType, errorDetail }, errorDetail);
    }
    return stale.length;
  }

  /** Deletes jobs (and their history) created before `cutoff` ms. */
  async evictOlderThan(cutoff: number): Promise<number> {
    let deleted = 0;
    await this.db.transaction(async (trx) => {
      const old = trx('miner_jobs').where('created_at', '<', cutoff).select('job_uuid');
      // Explicit delete of the history: SQLite enforces ON DELETE CASCADE only with foreign_keys on.
      await trx('miner_job_status_history').whereIn('job_uuid', old).delete();
      deleted = await trx('miner_jobs').where('created_at', '<', cutoff).delete();
    });
    return deleted;
  }
}
