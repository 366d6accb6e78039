import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Store } from '../contracts/index.js';
import { JOB_END_STATUSES, type JobStatus } from '../protocol/enums.js';
import type { JobStatusMetadata, SdkSignature } from '../protocol/facilitator-messages.js';
import { insertOnce } from '../store/insert-once.js';
import { fromJsonColumn, toJsonColumn } from '../store/json.js';
import type { CreateJobBody, StatusEntry, StoredJob } from './job-model.js';

const toNumber = (value: unknown): number => (typeof value === 'string' ? Number(value) : (value as number));

/** A signature as stored: `timestamp_ns` as a decimal string, since it does not fit a JSON number. */
function signatureToColumn(signature: SdkSignature): string {
  return toJsonColumn({ ...signature, timestamp_ns: signature.timestamp_ns.toString() });
}

function signatureFromColumn(value: unknown): SdkSignature {
  const raw = fromJsonColumn<Omit<SdkSignature, 'timestamp_ns'> & { timestamp_ns: string }>(value);
  return { ...raw, timestamp_ns: BigInt(raw.timestamp_ns) };
}

export interface CheatReportRow {
  readonly jobUuid: string;
  readonly trustedJobUuid: string;
  readonly reporterHotkey: string;
  readonly validatorHotkey: string;
  readonly details: unknown;
  readonly signature: SdkSignature;
  readonly dispatchedAt: number | null;
  readonly createdAt: number;
}

/** A job's time limits, all of them: past its creation plus these (and a slack) it is overdue. */
function timeLimitsMs(body: CreateJobBody): number {
  return (body.download_time_limit + body.execution_time_limit + body.upload_time_limit + body.streaming_start_time_limit) * 1000;
}

/** SQLite's and PostgreSQL's words for "that key is taken". */
function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** The facilitator's repositories (tables `facilitator_*`, see the migration). */
export class FacilitatorStore {
  private readonly db: Knex;
  private readonly dialect: Store['dialect'];

  constructor(store: Store) {
    this.db = store.db;
    this.dialect = store.dialect;
  }

  /**
   * The job's row, locked until the transaction ends on PostgreSQL (`FOR UPDATE`), so two workers
   * applying updates to one job take turns; SQLite runs one write transaction at a time anyway.
   */
  private lockedJob(trx: Knex.Transaction, where: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
    const query = trx('facilitator_jobs').where(where);
    return (this.dialect === 'postgres' ? query.forUpdate() : query).first();
  }

  /** The token secret: the one stored, or a new random one stored now. */
  async tokenSecret(): Promise<string> {
    const existing = await this.db('facilitator_settings').where({ key: 'token_secret' }).first();
    if (existing) return existing.value as string;
    await this.db('facilitator_settings')
      .insert({ key: 'token_secret', value: randomBytes(32).toString('base64url') })
      .onConflict('key')
      .ignore();
    const row = await this.db('facilitator_settings').where({ key: 'token_secret' }).first();
    return row.value as string;
  }

  // ---------------------------------------------------------------- used once

  /**
   * Records `key` as used until `expiresAt`: true the first time, false when it is already
   * recorded (a replay). Expired keys are swept first. The primary key decides, so two requests
   * racing with the same key (or two facilitators on one database) cannot both win.
   */
  async useOnce(key: string, expiresAt: number, now: number): Promise<boolean> {
    await this.db('facilitator_used_once').where('expires_at', '<=', now).delete();
    try {
      await this.db('facilitator_used_once').insert({ key, expires_at: expiresAt });
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  // ---------------------------------------------------------------- jobs

  async createJob(job: {
    uuid: string;
    userHotkey: string;
    body: CreateJobBody;
    signature: SdkSignature;
    createdAt: number;
  }): Promise<void> {
    const { body } = job;
    await this.db.transaction(async (trx) => {
      await trx('facilitator_jobs').insert({
        uuid: job.uuid,
        user_hotkey: job.userHotkey,
        target_validator_hotkey: body.target_validator_hotkey,
        executor_class: body.executor_class,
        docker_image: body.docker_image,
        job_namespace: body.job_namespace ?? null,
        args: toJsonColumn(body.args),
        env: toJsonColumn(body.env),
        use_gpu: body.use_gpu,
        volumes: toJsonColumn(body.volumes),
        uploads: toJsonColumn(body.uploads),
        artifacts_dir: body.artifacts_dir ?? null,
        on_trusted_miner: body.on_trusted_miner,
        download_time_limit: body.download_time_limit,
        execution_time_limit: body.execution_time_limit,
        upload_time_limit: body.upload_time_limit,
        streaming_start_time_limit: body.streaming_start_time_limit,
        streaming_details: body.streaming_details ? toJsonColumn(body.streaming_details) : null,
        signature: signatureToColumn(job.signature),
        status: 'sent',
        status_seq: 1,
        deadline_at: job.createdAt + timeLimitsMs(body),
        created_at: job.createdAt,
        updated_at: job.createdAt,
      });
      await trx('facilitator_job_statuses').insert({
        job_uuid: job.uuid,
        status: 'sent',
        seq: 1,
        metadata: null,
        created_at: job.createdAt,
      });
    });
  }

  private rowToJob(row: Record<string, unknown>): StoredJob {
    const body: CreateJobBody = {
      target_validator_hotkey: row.target_validator_hotkey as string,
      executor_class: row.executor_class as string,
      docker_image: row.docker_image as string,
      job_namespace: (row.job_namespace as string | null) ?? null,
      args: fromJsonColumn<string[]>(row.args),
      env: fromJsonColumn<Record<string, string>>(row.env),
      use_gpu: Boolean(row.use_gpu),
      artifacts_dir: (row.artifacts_dir as string | null) ?? null,
      on_trusted_miner: Boolean(row.on_trusted_miner),
      download_time_limit: row.download_time_limit as number,
      execution_time_limit: row.execution_time_limit as number,
      upload_time_limit: row.upload_time_limit as number,
      streaming_start_time_limit: row.streaming_start_time_limit as number,
      streaming_details: row.streaming_details ? fromJsonColumn<CreateJobBody['streaming_details']>(row.streaming_details) : null,
      volumes: fromJsonColumn<CreateJobBody['volumes']>(row.volumes),
      uploads: fromJsonColumn<CreateJobBody['uploads']>(row.uploads),
    };
    return {
      uuid: row.uuid as string,
      userHotkey: row.user_hotkey as string,
      targetValidatorHotkey: row.target_validator_hotkey as string,
      body,
      signature: signatureFromColumn(row.signature),
      status: row.status as JobStatus,
      stdout: row.stdout as string,
      stderr: row.stderr as string,
      artifacts: fromJsonColumn<Record<string, string>>(row.artifacts),
      uploadResults: fromJsonColumn<Record<string, string>>(row.upload_results),
      streamingServerCert: (row.streaming_server_cert as string | null) ?? null,
      streamingServerAddress: (row.streaming_server_address as string | null) ?? null,
      streamingServerPort: (row.streaming_server_port as number | null) ?? null,
      dispatchedAt: row.dispatched_at === null || row.dispatched_at === undefined ? null : toNumber(row.dispatched_at),
      dispatchedBy: row.dispatched_by === null || row.dispatched_by === undefined ? null : toNumber(row.dispatched_by),
      createdAt: toNumber(row.created_at),
      updatedAt: toNumber(row.updated_at),
    };
  }

  async job(uuid: string): Promise<StoredJob | null> {
    const row = await this.db('facilitator_jobs').where({ uuid }).first();
    return row ? this.rowToJob(row) : null;
  }

  /** A user's jobs, newest first. */
  async jobsOf(userHotkey: string, page: number, pageSize: number): Promise<{ count: number; jobs: StoredJob[] }> {
    const [{ count }] = (await this.db('facilitator_jobs').where({ user_hotkey: userHotkey }).count({ count: '*' })) as [
      { count: number | string },
    ];
    const rows = await this.db('facilitator_jobs')
      .where({ user_hotkey: userHotkey })
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'uuid', order: 'desc' },
      ])
      .limit(pageSize)
      .offset((page - 1) * pageSize);
    return { count: toNumber(count), jobs: rows.map((row) => this.rowToJob(row)) };
  }

  /** Every job, newest first (the dashboard). */
  async recentJobs(limit: number): Promise<StoredJob[]> {
    const rows = await this.db('facilitator_jobs')
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'uuid', order: 'desc' },
      ])
      .limit(limit);
    return rows.map((row) => this.rowToJob(row));
  }

  /** How many jobs are in each status now (their latest). */
  async jobCountsByStatus(): Promise<Partial<Record<JobStatus, number>>> {
    const rows: Array<{ status: JobStatus; n: number | string }> = await this.db('facilitator_jobs')
      .groupBy('status')
      .select('status')
      .count({ n: '*' });
    return Object.fromEntries(rows.map((row) => [row.status, toNumber(row.n)]));
  }

  async history(uuid: string): Promise<StatusEntry[]>;
  async history(uuids: readonly string[]): Promise<Map<string, StatusEntry[]>>;
  async history(uuids: string | readonly string[]): Promise<StatusEntry[] | Map<string, StatusEntry[]>> {
    const list = typeof uuids === 'string' ? [uuids] : uuids;
    const byJob = new Map<string, StatusEntry[]>(list.map((uuid) => [uuid, []]));
    if (list.length > 0) {
      // `id` orders rows written before sequence numbers existed, and equals the `seq` order after.
      const rows = await this.db('facilitator_job_statuses').whereIn('job_uuid', list).orderBy('id');
      for (const row of rows) {
        byJob.get(row.job_uuid)?.push({
          seq: row.seq === null ? null : toNumber(row.seq),
          status: row.status as JobStatus,
          metadata: row.metadata ? fromJsonColumn<JobStatusMetadata>(row.metadata) : null,
          createdAt: toNumber(row.created_at),
        });
      }
    }
    return typeof uuids === 'string' ? (byJob.get(uuids) ?? []) : byJob;
  }

  /**
   * Jobs for `validatorHotkey` that have not ended, oldest first: pushed again when it (re)connects,
   * so a job it never got, or lost track of, is answered (it ignores the ones it is running).
   */
  async openJobs(validatorHotkey: string): Promise<StoredJob[]> {
    const rows = await this.db('facilitator_jobs')
      .where({ target_validator_hotkey: validatorHotkey })
      .whereNotIn('status', [...JOB_END_STATUSES])
      .orderBy('created_at');
    return rows.map((row) => this.rowToJob(row));
  }

  /** Jobs for `validatorHotkey` it has not acknowledged yet (still `sent`), oldest first: what a worker's sweep may send. */
  async unacknowledgedJobs(validatorHotkey: string): Promise<StoredJob[]> {
    const rows = await this.db('facilitator_jobs')
      .where({ target_validator_hotkey: validatorHotkey, status: 'sent' })
      .orderBy('created_at');
    return rows.map((row) => this.rowToJob(row));
  }

  async markDispatched(uuid: string, at: number): Promise<void> {
    await this.db('facilitator_jobs').where({ uuid }).update({ dispatched_at: at });
  }

  /**
   * Facilitator workers: claims the sending of job `uuid` for the worker whose session is
   * `workerPid`, if the job is still open and its claim is still `previous` (compare and set):
   * true for the one caller that may send it now, false for every other.
   */
  async claimDispatch(
    uuid: string,
    workerPid: number,
    now: number,
    previous: { readonly dispatchedBy: number | null; readonly dispatchedAt: number | null },
  ): Promise<boolean> {
    const updated = await this.db('facilitator_jobs')
      .where({ uuid })
      .whereNotIn('status', [...JOB_END_STATUSES])
      .where((q) => (previous.dispatchedBy === null ? q.whereNull('dispatched_by') : q.where('dispatched_by', previous.dispatchedBy)))
      .where((q) => (previous.dispatchedAt === null ? q.whereNull('dispatched_at') : q.where('dispatched_at', previous.dispatchedAt)))
      .update({ dispatched_by: workerPid, dispatched_at: now });
    return updated === 1;
  }

  /** Gives a claim back (the send failed: the socket had closed), so another worker may send the job. */
  async releaseDispatch(uuid: string, workerPid: number): Promise<void> {
    await this.db('facilitator_jobs').where({ uuid, dispatched_by: workerPid }).update({ dispatched_by: null, dispatched_at: null });
  }

  /**
   * Open jobs whose deadline has passed: created more than their time limits (download, execution,
   * upload, streaming start) plus `slackMs` ago, earliest deadline first.
   */
  async overdueJobs(now: number, slackMs: number, limit: number): Promise<StoredJob[]> {
    // `deadline_at` is null once a job ended: the index holds the open jobs' deadlines only.
    const rows = await this.db('facilitator_jobs')
      .where('deadline_at', '<', now - slackMs)
      .whereNotIn('status', [...JOB_END_STATUSES])
      .orderBy('deadline_at')
      .limit(limit);
    return rows.map((row) => this.rowToJob(row));
  }

  /**
   * Appends a validator's status update. Refused (false) when the job is not this validator's, or
   * already ended. A terminal update copies the result (stdout, artifacts, …) onto the job. The
   * same status again (a validator re-sending after a reconnect) is a `duplicate`: acknowledged,
   * not appended. Each appended update takes the job's next sequence number.
   */
  async addStatus(
    validatorHotkey: string,
    uuid: string,
    status: JobStatus,
    metadata: JobStatusMetadata | null,
    now: number,
  ): Promise<'ok' | 'duplicate' | 'unknown_job' | 'job_ended'> {
    return this.db.transaction(async (trx) => {
      const row = await this.lockedJob(trx, { uuid, target_validator_hotkey: validatorHotkey });
      if (!row) return 'unknown_job';
      if (JOB_END_STATUSES.has(row.status as JobStatus)) return 'job_ended';
      if (row.status === status) return 'duplicate';
      await this.appendStatus(trx, row, status, metadata, now);
      return 'ok';
    });
  }

  /**
   * Ends an open job as `horde_failed` reported by the facilitator (its deadline passed with no
   * final status): false when it had ended meanwhile (another worker, or its validator, was first).
   */
  async endAsFailed(uuid: string, message: string, now: number): Promise<boolean> {
    return this.db.transaction(async (trx) => {
      const row = await this.lockedJob(trx, { uuid });
      if (!row || JOB_END_STATUSES.has(row.status as JobStatus)) return false;
      const metadata: JobStatusMetadata = {
        horde_failure_details: { reported_by: 'facilitator', reason: 'unhandled_timeout', message, context: null },
      };
      await this.appendStatus(trx, row, 'horde_failed', metadata, now);
      return true;
    });
  }

  private async appendStatus(
    trx: Knex.Transaction,
    row: Record<string, unknown>,
    status: JobStatus,
    metadata: JobStatusMetadata | null,
    now: number,
  ): Promise<void> {
    const uuid = row.uuid as string;
    const seq = toNumber(row.status_seq ?? 0) + 1;
    const update: Record<string, unknown> = { status, status_seq: seq, updated_at: now };
    if (JOB_END_STATUSES.has(status)) update.deadline_at = null;
    const response = metadata?.miner_response;
    const failure = metadata?.job_failure_details;
    if (response) {
      update.stdout = response.docker_process_stdout;
      update.stderr = response.docker_process_stderr;
      update.artifacts = toJsonColumn(response.artifacts ?? {});
      update.upload_results = toJsonColumn(response.upload_results ?? {});
    } else if (failure) {
      update.stdout = failure.docker_process_stdout ?? '';
      update.stderr = failure.docker_process_stderr ?? '';
    }
    const streaming = metadata?.streaming_details;
    if (streaming) {
      update.streaming_server_cert = streaming.streaming_server_cert ?? null;
      update.streaming_server_address = streaming.streaming_server_address ?? null;
      update.streaming_server_port = streaming.streaming_server_port ?? null;
    }
    await trx('facilitator_jobs').where({ uuid }).update(update);
    await trx('facilitator_job_statuses').insert({
      job_uuid: uuid,
      status,
      seq,
      metadata: metadata ? toJsonColumn(metadata) : null,
      created_at: now,
    });
  }

  // ---------------------------------------------------------------- cheat reports

  /** Stores a report; false when the job was reported already. */
  async addCheatReport(report: Omit<CheatReportRow, 'dispatchedAt'>): Promise<boolean> {
    // Two reports of one job at once: the primary key lets one in.
    return insertOnce(
      this.db,
      'facilitator_cheat_reports',
      { job_uuid: report.jobUuid },
      {
        job_uuid: report.jobUuid,
        trusted_job_uuid: report.trustedJobUuid,
        reporter_hotkey: report.reporterHotkey,
        validator_hotkey: report.validatorHotkey,
        details: toJsonColumn(report.details ?? null),
        signature: signatureToColumn(report.signature),
        created_at: report.createdAt,
      },
    );
  }

  /** Reports not yet delivered to `validatorHotkey`, oldest first. */
  async undeliveredCheatReports(validatorHotkey: string): Promise<CheatReportRow[]> {
    const rows = await this.db('facilitator_cheat_reports')
      .where({ validator_hotkey: validatorHotkey })
      .whereNull('dispatched_at')
      .orderBy('created_at');
    return rows.map((row) => ({
      jobUuid: row.job_uuid,
      trustedJobUuid: row.trusted_job_uuid,
      reporterHotkey: row.reporter_hotkey,
      validatorHotkey: row.validator_hotkey,
      details: row.details ? fromJsonColumn<unknown>(row.details) : null,
      signature: signatureFromColumn(row.signature),
      dispatchedAt: null,
      createdAt: toNumber(row.created_at),
    }));
  }

  async markCheatReportDispatched(jobUuid: string, at: number): Promise<void> {
    await this.db('facilitator_cheat_reports').where({ job_uuid: jobUuid }).update({ dispatched_at: at });
  }

  /** Facilitator workers: claims the sending of an undelivered report (true for one caller only). */
  async claimCheatReport(jobUuid: string, workerPid: number, now: number): Promise<boolean> {
    const updated = await this.db('facilitator_cheat_reports')
      .where({ job_uuid: jobUuid })
      .whereNull('dispatched_at')
      .update({ dispatched_at: now, dispatched_by: workerPid });
    return updated === 1;
  }

  async releaseCheatReport(jobUuid: string, workerPid: number): Promise<void> {
    await this.db('facilitator_cheat_reports')
      .where({ job_uuid: jobUuid, dispatched_by: workerPid })
      .update({ dispatched_at: null, dispatched_by: null });
  }

  // ---------------------------------------------------------------- machine specs

  async saveMachineSpecs(specs: {
    minerHotkey: string;
    validatorHotkey: string;
    specs: Record<string, unknown>;
    batchId: string;
    receivedAt: number;
  }): Promise<void> {
    await this.db('facilitator_machine_specs')
      .insert({
        miner_hotkey: specs.minerHotkey,
        validator_hotkey: specs.validatorHotkey,
        specs: toJsonColumn(specs.specs),
        batch_id: specs.batchId,
        received_at: specs.receivedAt,
      })
      .onConflict(['miner_hotkey', 'validator_hotkey'])
      .merge();
  }

  async machineSpecs(
    minerHotkey: string,
  ): Promise<Array<{ validatorHotkey: string; specs: Record<string, unknown>; batchId: string; receivedAt: number }>> {
    const rows = await this.db('facilitator_machine_specs').where({ miner_hotkey: minerHotkey });
    return rows.map((row) => ({
      validatorHotkey: row.validator_hotkey,
      specs: fromJsonColumn<Record<string, unknown>>(row.specs),
      batchId: row.batch_id,
      receivedAt: toNumber(row.received_at),
    }));
  }
}
