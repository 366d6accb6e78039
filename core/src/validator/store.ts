import type { Knex } from 'knex';
import type { JobOutcome, JobOutcomeStatus, Manifest, Receipt, Store } from '../contracts/index.js';
import { fromJsonColumn, toJsonColumn } from '../store/json.js';
import { AmbiguousJobError } from './errors.js';
import { MAX_JOB_TRANSITIONS, type FailureRecord, type FailureSource, type JobRecord, type JobTransition } from './job-driver.js';
import { definedFields } from '../object/defined-fields.js';

/** Rows per INSERT: keeps each statement far below SQLite's bound-variable limit. */
const CHUNK = 200;

const toNumber = (value: unknown): number => (typeof value === 'string' ? Number(value) : (value as number));
const toNullableNumber = (value: unknown): number | null => (value === null || value === undefined ? null : toNumber(value));
const toNullableBool = (value: unknown): boolean | null => (value === null || value === undefined ? null : Boolean(value));

export type BatchStatus = 'running' | 'finished' | 'failed';

/** A miner's manifest as served over the websocket and as committed on chain, when the two disagreed. */
export interface ManifestContradiction {
  readonly minerHotkey: string;
  readonly served: Manifest;
  readonly committed: Manifest;
}

export interface BatchRow {
  readonly cycle: number;
  readonly block: number;
  readonly startedAt: number;
  readonly finishedAt: number | null;
  readonly miners: number;
  readonly jobs: number;
  readonly overheadMs: number | null;
  readonly status: BatchStatus;
}

export interface ScoreStepRow {
  readonly step: number;
  readonly rule: string;
  readonly hotkey: string;
  readonly executorClass: string;
  readonly points: number;
}

export interface ScoreRow {
  readonly hotkey: string;
  readonly uid: number | null;
  readonly weight: number;
}

export interface WeightsRow {
  readonly cycle: number;
  readonly status: string;
  readonly block: number | null;
  readonly revealBlock: number | null;
  readonly uids: number[];
  readonly weights: number[];
  readonly attempts: number;
  readonly error: string | null;
  readonly createdAt: number;
  /** How the weights went on chain (`WeightSubmissionMode`); null when nothing landed or not known. */
  readonly mode?: string | null;
  /** drand round a timelocked (v4) commit is revealed at. */
  readonly revealRound?: number | null;
}

/** An organic job's outcome, recorded by whatever routed it (the facilitator path). */
export interface OrganicJobRecord {
  readonly jobUuid: string;
  readonly cycle: number;
  readonly minerHotkey: string;
  readonly executorClass: string;
  readonly status: JobOutcomeStatus;
  /** False when a trusted-miner cross-check caught the miner cheating. */
  readonly correct?: boolean;
  readonly executorSeconds?: number;
  readonly paidWithBlocks?: readonly number[];
  readonly details?: string;
  /** Why it failed, for a failed or horde-failed job. */
  readonly failure?: FailureRecord | null;
  /** Its status transitions (`JobRecord.history`). */
  readonly history?: readonly JobTransition[];
}

/** A failed or horde-failed job with why it failed, newest first (`horde validator jobs --failed`). */
export interface FailedJobRow {
  readonly jobUuid: string;
  readonly cycle: number;
  readonly minerHotkey: string;
  readonly executorClass: string;
  readonly kind: string;
  readonly status: 'failed' | 'horde_failed';
  readonly failure: FailureRecord;
  readonly details: string;
  readonly createdAt: number;
}

/** One stored job, as the dashboard lists it. */
export interface JobSummaryRow {
  readonly jobUuid: string;
  readonly cycle: number;
  readonly minerHotkey: string;
  readonly executorClass: string;
  readonly kind: string;
  readonly status: JobOutcomeStatus;
  readonly correct: boolean | null;
  readonly timeTookMs: number | null;
  readonly failure: FailureRecord | null;
  readonly details: string;
  readonly createdAt: number;
}

export interface JobListQuery {
  readonly limit?: number;
  /** Only this cycle. */
  readonly cycle?: number;
  /** Only failed and horde-failed jobs. */
  readonly failedOnly?: boolean;
  readonly minerHotkey?: string;
  /** Only the job with this uuid. */
  readonly jobUuid?: string;
  /** Only jobs whose uuid starts with this. */
  readonly jobUuidPrefix?: string;
}

/** Failure columns of a row (see the validator-h-ops-0001 migration); null when the job did not fail or predates them. */
function failureOf(row: Record<string, unknown>): FailureRecord | null {
  if (row['failure_reason'] === null || row['failure_reason'] === undefined) return null;
  return {
    source: (row['failure_source'] as FailureSource | null) ?? 'validator',
    reason: row['failure_reason'] as string,
    stage: (row['failure_stage'] as string | null) ?? null,
    message: (row['failure_message'] as string | null) ?? '',
  };
}

/** The failure columns to write for a job. */
function failureColumns(failure: FailureRecord | null | undefined) {
  return {
    failure_source: failure?.source ?? null,
    failure_reason: failure ? failure.reason.slice(0, 64) : null,
    failure_stage: failure?.stage ? failure.stage.slice(0, 64) : null,
    failure_message: failure ? failure.message.slice(0, 2000) : null,
  };
}

/** A `validator_batches` row as the store's callers see it. */
function batchFromRow(row: Record<string, any>): BatchRow {
  return {
    cycle: row.cycle,
    block: toNumber(row.block),
    startedAt: toNumber(row.started_at),
    finishedAt: toNullableNumber(row.finished_at),
    miners: row.miners,
    jobs: row.jobs,
    overheadMs: toNullableNumber(row.overhead_ms),
    status: row.status,
  };
}

/** The validator's repositories (tables `validator_*`, see the migration). */
export class ValidatorStore {
  private readonly db: Knex;

  constructor(
    store: Store,
    readonly validatorHotkey: string,
  ) {
    this.db = store.db;
  }

  // ---------------------------------------------------------------- batches

  async startBatch(cycle: number, block: number, startedAt: number): Promise<void> {
    await this.db('validator_batches')
      .insert({ validator_hotkey: this.validatorHotkey, cycle, block, started_at: startedAt, status: 'running' })
      .onConflict(['validator_hotkey', 'cycle'])
      .merge({ block, started_at: startedAt, status: 'running', finished_at: null });
  }

  async finishBatch(
    cycle: number,
    fields: { finishedAt: number; miners: number; jobs: number; overheadMs: number | null; status: BatchStatus },
  ): Promise<void> {
    await this.db('validator_batches')
      .where({ validator_hotkey: this.validatorHotkey, cycle })
      .update({
        finished_at: fields.finishedAt,
        miners: fields.miners,
        jobs: fields.jobs,
        overhead_ms: fields.overheadMs === null ? null : Math.round(fields.overheadMs),
        status: fields.status,
      });
  }

  /**
   * Batches left `running` by a process that ended without finishing them (kill -9, a crash, the
   * OOM killer): recorded `failed` at start-up, before this process runs anything, so no batch of
   * this validator stays `running` forever. A batch of the current cycle runs again afterwards
   * (the block loop re-runs any batch that is not `finished`). Returns the cycles closed.
   * `beforeCycle`: only batches of older cycles (a new leader of validator workers resumes the
   * current cycle's batch instead).
   */
  async closeInterruptedBatches(now: number, beforeCycle?: number): Promise<number[]> {
    const running = () => {
      const query = this.db('validator_batches').where({ validator_hotkey: this.validatorHotkey, status: 'running' });
      return beforeCycle === undefined ? query : query.where('cycle', '<', beforeCycle);
    };
    const rows: Array<{ cycle: number | string }> = await running().select('cycle');
    if (rows.length === 0) return [];
    await running().update({ status: 'failed', finished_at: now });
    return rows.map((row) => Number(row.cycle));
  }

  async batch(cycle: number): Promise<BatchRow | null> {
    const row = await this.db('validator_batches').where({ validator_hotkey: this.validatorHotkey, cycle }).first();
    return row ? batchFromRow(row) : null;
  }

  // ---------------------------------------------------------------- manifests and main hotkeys

  /**
   * Replaces the cycle's manifests; with `onlyMiners` (a worker's task of a batch) only those
   * miners' rows, leaving the rest of the batch's.
   */
  async saveManifests(cycle: number, manifests: ReadonlyMap<string, Manifest>, onlyMiners?: readonly string[]): Promise<void> {
    const rows = [...manifests].flatMap(([minerHotkey, manifest]) =>
      Object.entries(manifest).map(([executorClass, count]) => ({
        validator_hotkey: this.validatorHotkey,
        cycle,
        miner_hotkey: minerHotkey,
        executor_class: executorClass,
        count,
      })),
    );
    await this.db.transaction(async (trx) => {
      if (onlyMiners) {
        for (let i = 0; i < onlyMiners.length; i += CHUNK) {
          await trx('validator_manifests')
            .where({ validator_hotkey: this.validatorHotkey, cycle })
            .whereIn('miner_hotkey', onlyMiners.slice(i, i + CHUNK))
            .delete();
        }
      } else {
        await trx('validator_manifests').where({ validator_hotkey: this.validatorHotkey, cycle }).delete();
      }
      for (let i = 0; i < rows.length; i += CHUNK) await trx('validator_manifests').insert(rows.slice(i, i + CHUNK));
    });
  }

  async manifests(cycle: number): Promise<Record<string, Manifest>> {
    const rows = await this.db('validator_manifests').where({ validator_hotkey: this.validatorHotkey, cycle });
    const manifests: Record<string, Manifest> = {};
    for (const row of rows) (manifests[row.miner_hotkey] ??= {})[row.executor_class] = row.count;
    return manifests;
  }

  /**
   * Miners whose served manifest disagreed with their chain commitment in this cycle's batch
   * (replaces what an earlier run of the same cycle's batch recorded).
   */
  async saveManifestContradictions(cycle: number, contradictions: readonly ManifestContradiction[], recordedAt: number): Promise<void> {
    await this.db.transaction(async (trx) => {
      await trx('validator_manifest_contradictions').where({ validator_hotkey: this.validatorHotkey, cycle }).delete();
      const rows = contradictions.map((c) => ({
        validator_hotkey: this.validatorHotkey,
        cycle,
        miner_hotkey: c.minerHotkey,
        served: toJsonColumn(c.served),
        committed: toJsonColumn(c.committed),
        recorded_at: recordedAt,
      }));
      for (let i = 0; i < rows.length; i += CHUNK) await trx('validator_manifest_contradictions').insert(rows.slice(i, i + CHUNK));
    });
  }

  async manifestContradictions(cycle: number): Promise<ManifestContradiction[]> {
    const rows = await this.db('validator_manifest_contradictions')
      .where({ validator_hotkey: this.validatorHotkey, cycle })
      .orderBy('miner_hotkey');
    return rows.map((row) => ({
      minerHotkey: row.miner_hotkey,
      served: fromJsonColumn<Manifest>(row.served),
      committed: fromJsonColumn<Manifest>(row.committed),
    }));
  }

  async saveMainHotkeys(
    cycle: number,
    mainHotkeys: ReadonlyArray<{ coldkey: string; mainHotkey: string; reportedBy: string }>,
  ): Promise<void> {
    const rows = mainHotkeys.map((entry) => ({
      validator_hotkey: this.validatorHotkey,
      cycle,
      coldkey: entry.coldkey,
      main_hotkey: entry.mainHotkey,
      reported_by: entry.reportedBy,
    }));
    for (let i = 0; i < rows.length; i += CHUNK) {
      await this.db('validator_main_hotkeys')
        .insert(rows.slice(i, i + CHUNK))
        .onConflict(['validator_hotkey', 'cycle', 'coldkey'])
        .merge();
    }
  }

  /** coldkey → main hotkey named for `cycle`. */
  async mainHotkeys(cycle: number): Promise<Map<string, string>> {
    const rows = await this.db('validator_main_hotkeys').where({ validator_hotkey: this.validatorHotkey, cycle });
    return new Map(rows.map((row) => [row.coldkey as string, row.main_hotkey as string]));
  }

  // ---------------------------------------------------------------- jobs

  /**
   * Drops the synthetic job outcomes of these miners in a cycle: a batch task that runs again (its
   * worker died after storing) replaces what the earlier attempt stored instead of adding to it.
   */
  async deleteSyntheticJobs(cycle: number, minerHotkeys: readonly string[]): Promise<void> {
    for (let i = 0; i < minerHotkeys.length; i += CHUNK) {
      await this.db('validator_jobs')
        .where({ validator_hotkey: this.validatorHotkey, cycle, kind: 'synthetic' })
        .whereIn('miner_hotkey', minerHotkeys.slice(i, i + CHUNK))
        .delete();
    }
  }

  async saveJobs(records: readonly JobRecord[], createdAt: number): Promise<void> {
    const rows = records.map((record) => ({
      job_uuid: record.jobUuid,
      validator_hotkey: this.validatorHotkey,
      cycle: record.cycle,
      miner_hotkey: record.minerHotkey,
      executor_class: record.executorClass,
      kind: record.kind,
      generator: record.generator,
      description: record.description,
      status: record.status,
      accepted: record.accepted,
      correct: record.correct,
      in_time: record.inTime,
      time_took_ms: record.timeTookMs === null ? null : Math.round(record.timeTookMs),
      details: record.details.slice(0, 2000),
      rejection_reason: record.rejectionReason,
      rejection_receipts: record.rejectionReceipts.length > 0 ? toJsonColumn(record.rejectionReceipts) : null,
      checked_at: record.checkedAt,
      ...failureColumns(record.failure),
      gpu_uuids: record.gpuUuids && record.gpuUuids.length > 0 ? toJsonColumn(record.gpuUuids) : null,
      created_at: createdAt,
    }));
    for (let i = 0; i < rows.length; i += CHUNK) await this.db('validator_jobs').insert(rows.slice(i, i + CHUNK));
    await this.saveHistory(records);
  }

  /** The jobs' status transitions (after their rows: each refers to its job). */
  private async saveHistory(
    records: ReadonlyArray<{ readonly jobUuid: string; readonly history?: readonly JobTransition[] | undefined }>,
  ): Promise<void> {
    const rows = records.flatMap((record) =>
      (record.history ?? []).slice(0, MAX_JOB_TRANSITIONS).map((transition, seq) => ({
        job_uuid: record.jobUuid,
        seq,
        status: transition.status.slice(0, 32),
        at: Math.round(transition.at),
        detail: transition.detail === null ? null : transition.detail.slice(0, 300),
      })),
    );
    for (let i = 0; i < rows.length; i += CHUNK) await this.db('validator_job_status_history').insert(rows.slice(i, i + CHUNK));
  }

  /**
   * One stored job by its uuid or a unique prefix of it (the 8 characters the tables show), with
   * its status history; null when none matches. Throws `AmbiguousJobError` for a prefix that
   * matches several of this validator's jobs.
   */
  async job(uuidOrPrefix: string): Promise<(JobSummaryRow & { readonly history: JobTransition[] }) | null> {
    const exact = await this.jobs({ jobUuid: uuidOrPrefix, limit: 1 });
    const found = exact.length > 0 ? exact : await this.jobs({ jobUuidPrefix: uuidOrPrefix, limit: 2 });
    if (found.length > 1)
      throw new AmbiguousJobError(
        `${uuidOrPrefix} matches several jobs (${found.map((j) => j.jobUuid).join(', ')}, …): give more of the uuid`,
      );
    const job = found[0];
    if (!job) return null;
    return { ...job, history: await this.jobHistory(job.jobUuid) };
  }

  /** A job's status transitions, oldest first (empty for jobs stored before histories were kept). */
  async jobHistory(jobUuid: string): Promise<JobTransition[]> {
    const rows = await this.db('validator_job_status_history').where({ job_uuid: jobUuid }).orderBy('seq');
    return rows.map((row) => ({ status: row.status as string, at: toNumber(row.at), detail: (row.detail as string | null) ?? null }));
  }

  async recordOrganicJob(record: OrganicJobRecord, createdAt: number): Promise<void> {
    await this.db('validator_jobs').insert({
      job_uuid: record.jobUuid,
      validator_hotkey: this.validatorHotkey,
      cycle: record.cycle,
      miner_hotkey: record.minerHotkey,
      executor_class: record.executorClass,
      kind: 'organic',
      status: record.status,
      accepted: record.status !== 'rejected',
      correct: record.correct ?? null,
      details: record.details ?? '',
      executor_seconds: record.executorSeconds ?? null,
      paid_with_blocks: record.paidWithBlocks ? toJsonColumn(record.paidWithBlocks) : null,
      ...failureColumns(record.failure),
      created_at: createdAt,
    });
    await this.saveHistory([record]);
  }

  /**
   * An organic job found cheated (a cheat report, or a trusted-miner cross-check that disagreed):
   * `correct` becomes false, so scoring no longer pays it. False when no such organic job is stored.
   */
  async markOrganicJobIncorrect(jobUuid: string, details: string): Promise<boolean> {
    const updated = await this.db('validator_jobs')
      .where({ job_uuid: jobUuid, validator_hotkey: this.validatorHotkey, kind: 'organic' })
      .update({ correct: false, details: details.slice(0, 2000) });
    return updated > 0;
  }

  /** Every job of a cycle in the shape scoring rules read, oldest first. */
  async jobOutcomes(cycle: number): Promise<JobOutcome[]> {
    const rows = await this.db('validator_jobs')
      .where({ validator_hotkey: this.validatorHotkey, cycle })
      .orderBy([{ column: 'created_at' }, { column: 'job_uuid' }]);
    return rows.map((row): JobOutcome => {
      const rejection =
        row.status === 'rejected'
          ? {
              reason: (row.rejection_reason as string | null) ?? 'unknown',
              receipts: row.rejection_receipts ? fromJsonColumn<Receipt[]>(row.rejection_receipts) : [],
              checkedAt: toNumber(row.checked_at ?? 0),
            }
          : undefined;
      const correct = toNullableBool(row.correct);
      const inTime = toNullableBool(row.in_time);
      const timeTookMs = toNullableNumber(row.time_took_ms);
      const executorSeconds = toNullableNumber(row.executor_seconds);
      return {
        jobUuid: row.job_uuid,
        minerHotkey: row.miner_hotkey,
        executorClass: row.executor_class,
        kind: row.kind,
        status: row.status,
        accepted: Boolean(row.accepted),
        ...definedFields({
          correct: correct ?? undefined,
          inTime: inTime ?? undefined,
          timeTookMs: timeTookMs ?? undefined,
          executorSeconds: executorSeconds ?? undefined,
        }),
        ...(row.paid_with_blocks ? { paidWithBlocks: fromJsonColumn<number[]>(row.paid_with_blocks) } : {}),
        ...definedFields({ rejection: rejection ?? undefined }),
      };
    });
  }

  /** A cycle's synthetic jobs whose executors reported GPU UUIDs: what the batch-wide GPU check reads. */
  async jobsWithGpus(cycle: number): Promise<JobGpuRow[]> {
    const rows = await this.db('validator_jobs')
      .where({ validator_hotkey: this.validatorHotkey, cycle, kind: 'synthetic' })
      .whereNotNull('gpu_uuids')
      .select('job_uuid', 'miner_hotkey', 'status', 'correct', 'details', 'gpu_uuids');
    return rows.map((row) => ({
      jobUuid: row.job_uuid,
      minerHotkey: row.miner_hotkey,
      status: row.status,
      correct: toNullableBool(row.correct),
      details: row.details,
      gpuUuids: fromJsonColumn<string[]>(row.gpu_uuids),
    }));
  }

  /** Takes a job's credit away after the fact (the batch-wide GPU check): `correct` and the reason in `details`. */
  async refuseJobCredit(jobUuid: string, correct: boolean | null, details: string): Promise<void> {
    await this.db('validator_jobs')
      .where({ validator_hotkey: this.validatorHotkey, job_uuid: jobUuid })
      .update({ correct, details: details.slice(0, 2000) });
  }

  async jobDetails(
    cycle: number,
  ): Promise<
    Array<{ jobUuid: string; minerHotkey: string; executorClass: string; status: string; correct: boolean | null; details: string }>
  > {
    const rows = await this.db('validator_jobs')
      .where({ validator_hotkey: this.validatorHotkey, cycle })
      .select('job_uuid', 'miner_hotkey', 'executor_class', 'status', 'correct', 'details');
    return rows.map((row) => ({
      jobUuid: row.job_uuid,
      minerHotkey: row.miner_hotkey,
      executorClass: row.executor_class,
      status: row.status,
      correct: toNullableBool(row.correct),
      details: row.details,
    }));
  }

  /** Stored jobs, newest first: all of them or only the failed ones (with why they failed). */
  async jobs(query: JobListQuery = {}): Promise<JobSummaryRow[]> {
    let select = this.db('validator_jobs').where({ validator_hotkey: this.validatorHotkey });
    if (query.cycle !== undefined) select = select.andWhere({ cycle: query.cycle });
    if (query.minerHotkey !== undefined) select = select.andWhere({ miner_hotkey: query.minerHotkey });
    if (query.failedOnly) select = select.whereIn('status', ['failed', 'horde_failed']);
    if (query.jobUuid !== undefined) select = select.andWhere({ job_uuid: query.jobUuid });
    // A prefix is matched literally: LIKE's own wildcards in it are escaped.
    if (query.jobUuidPrefix !== undefined)
      select = select.andWhereRaw("job_uuid like ? escape '\\'", [`${query.jobUuidPrefix.replace(/[\\%_]/g, '\\$&')}%`]);
    const rows = await select.orderBy([{ column: 'created_at', order: 'desc' }, { column: 'job_uuid' }]).limit(query.limit ?? 100);
    return rows.map((row) => ({
      jobUuid: row.job_uuid,
      cycle: row.cycle,
      minerHotkey: row.miner_hotkey,
      executorClass: row.executor_class,
      kind: row.kind,
      status: row.status,
      correct: toNullableBool(row.correct),
      timeTookMs: toNullableNumber(row.time_took_ms),
      failure:
        failureOf(row) ??
        (row.status === 'failed' || row.status === 'horde_failed'
          ? { source: 'validator', reason: 'unknown', stage: null, message: row.details }
          : null),
      details: row.details,
      createdAt: toNumber(row.created_at),
    }));
  }

  /** Failed and horde-failed jobs, newest first, each with its reason and stage. */
  async failedJobs(query: Omit<JobListQuery, 'failedOnly'> = {}): Promise<FailedJobRow[]> {
    const rows = await this.jobs({ ...query, failedOnly: true });
    return rows.map((row) => ({
      jobUuid: row.jobUuid,
      cycle: row.cycle,
      minerHotkey: row.minerHotkey,
      executorClass: row.executorClass,
      kind: row.kind,
      status: row.status as 'failed' | 'horde_failed',
      failure: row.failure!,
      details: row.details,
      createdAt: row.createdAt,
    }));
  }

  /** The most recent batches, newest first. */
  async recentBatches(limit = 20): Promise<BatchRow[]> {
    const rows = await this.db('validator_batches').where({ validator_hotkey: this.validatorHotkey }).orderBy('cycle', 'desc').limit(limit);
    return rows.map(batchFromRow);
  }

  /** Job counts of the most recent cycles by cycle and status (the dashboard's batch table). */
  async jobCountsByCycle(cycles: readonly number[]): Promise<Map<number, Partial<Record<JobOutcomeStatus, number>>>> {
    const counts = new Map<number, Partial<Record<JobOutcomeStatus, number>>>();
    if (cycles.length === 0) return counts;
    const rows: Array<{ cycle: number | string; status: JobOutcomeStatus; n: number | string }> = await this.db('validator_jobs')
      .where({ validator_hotkey: this.validatorHotkey })
      .whereIn('cycle', [...cycles])
      .groupBy('cycle', 'status')
      .select('cycle', 'status')
      .count({ n: '*' });
    for (const row of rows) {
      const entry = counts.get(Number(row.cycle)) ?? {};
      entry[row.status] = Number(row.n);
      counts.set(Number(row.cycle), entry);
    }
    return counts;
  }

  /** The last cycle a batch saved manifests for, or null. */
  async latestManifestCycle(): Promise<number | null> {
    const row = await this.db('validator_manifests').where({ validator_hotkey: this.validatorHotkey }).max({ cycle: 'cycle' }).first();
    return row?.cycle === null || row?.cycle === undefined ? null : Number(row.cycle);
  }

  // ---------------------------------------------------------------- scores and weights

  async saveScores(cycle: number, steps: readonly ScoreStepRow[], scores: readonly ScoreRow[], scoredAt: number): Promise<void> {
    const key = { validator_hotkey: this.validatorHotkey, cycle };
    await this.db.transaction(async (trx) => {
      await trx('validator_score_steps').where(key).delete();
      await trx('validator_scores').where(key).delete();
      const stepRows = steps.map((s) => ({
        ...key,
        step: s.step,
        rule: s.rule,
        hotkey: s.hotkey,
        executor_class: s.executorClass,
        points: s.points,
      }));
      for (let i = 0; i < stepRows.length; i += CHUNK) await trx('validator_score_steps').insert(stepRows.slice(i, i + CHUNK));
      const scoreRows = scores.map((s) => ({ ...key, hotkey: s.hotkey, uid: s.uid, weight: s.weight, scored_at: scoredAt }));
      for (let i = 0; i < scoreRows.length; i += CHUNK) await trx('validator_scores').insert(scoreRows.slice(i, i + CHUNK));
    });
  }

  async scoreSteps(cycle: number): Promise<ScoreStepRow[]> {
    const rows = await this.db('validator_score_steps')
      .where({ validator_hotkey: this.validatorHotkey, cycle })
      .orderBy(['step', 'hotkey', 'executor_class']);
    return rows.map((row) => ({
      step: row.step,
      rule: row.rule,
      hotkey: row.hotkey,
      executorClass: row.executor_class,
      points: Number(row.points),
    }));
  }

  async scores(cycle: number): Promise<ScoreRow[]> {
    const rows = await this.db('validator_scores').where({ validator_hotkey: this.validatorHotkey, cycle }).orderBy('weight', 'desc');
    return rows.map((row) => ({ hotkey: row.hotkey, uid: row.uid ?? null, weight: Number(row.weight) }));
  }

  /** When `cycle` was first scored (ms), or null if it never was (or nobody had points). */
  async scoredAt(cycle: number): Promise<number | null> {
    const row = await this.db('validator_scores').where({ validator_hotkey: this.validatorHotkey, cycle }).min({ at: 'scored_at' }).first();
    return row?.at === null || row?.at === undefined ? null : toNumber(row.at);
  }

  async latestScoredCycle(): Promise<number | null> {
    const row = await this.db('validator_scores').where({ validator_hotkey: this.validatorHotkey }).max({ cycle: 'cycle' }).first();
    return row?.cycle === null || row?.cycle === undefined ? null : Number(row.cycle);
  }

  async recordWeights(row: Omit<WeightsRow, 'createdAt'>, createdAt: number): Promise<void> {
    await this.db('validator_weights').insert({
      validator_hotkey: this.validatorHotkey,
      cycle: row.cycle,
      status: row.status,
      block: row.block,
      reveal_block: row.revealBlock,
      uids: toJsonColumn(row.uids),
      weights: toJsonColumn(row.weights),
      attempts: row.attempts,
      error: row.error,
      created_at: createdAt,
      mode: row.mode ?? null,
      reveal_round: row.revealRound ?? null,
    });
  }

  async weights(cycle: number): Promise<WeightsRow[]> {
    const rows = await this.db('validator_weights').where({ validator_hotkey: this.validatorHotkey, cycle }).orderBy('id');
    return rows.map(weightsRow);
  }

  /** Weights that landed (set or committed), oldest first, for the last `limit` cycles: the weights-over-time chart. */
  async weightsHistory(limit = 30): Promise<WeightsRow[]> {
    const rows = await this.db('validator_weights')
      .where({ validator_hotkey: this.validatorHotkey })
      .whereIn('status', ['set', 'committed'])
      .orderBy('id', 'desc')
      .limit(limit);
    return rows.reverse().map(weightsRow);
  }

  /** Whether weights for `cycle` already landed (set or committed). */
  async weightsLanded(cycle: number): Promise<boolean> {
    const row = await this.db('validator_weights')
      .where({ validator_hotkey: this.validatorHotkey, cycle })
      .whereIn('status', ['set', 'committed'])
      .first();
    return row !== undefined;
  }
}

/** A stored synthetic job with the GPU UUIDs its executor reported (`jobsWithGpus`). */
export interface JobGpuRow {
  readonly jobUuid: string;
  readonly minerHotkey: string;
  readonly status: string;
  readonly correct: boolean | null;
  readonly details: string;
  readonly gpuUuids: readonly string[];
}

/** A `validator_weights` row as the driver returns it (numbers may come back as strings on PostgreSQL). */
interface WeightsDbRow {
  readonly cycle: number;
  readonly status: string;
  readonly block: unknown;
  readonly reveal_block: unknown;
  readonly uids: unknown;
  readonly weights: unknown;
  readonly attempts: number;
  readonly error: string | null;
  readonly created_at: unknown;
  readonly mode: string | null;
  readonly reveal_round: unknown;
}

/** One `validator_weights` row as the store hands it out (the weights of a cycle, the chart's history). */
function weightsRow(row: WeightsDbRow): WeightsRow {
  return {
    cycle: row.cycle,
    status: row.status,
    block: toNullableNumber(row.block),
    revealBlock: toNullableNumber(row.reveal_block),
    uids: fromJsonColumn<number[]>(row.uids),
    weights: fromJsonColumn<number[]>(row.weights),
    attempts: row.attempts,
    error: row.error ?? null,
    createdAt: toNumber(row.created_at),
    mode: row.mode ?? null,
    revealRound: toNullableNumber(row.reveal_round),
  };
}

/**
 * A cycle's score steps summed per hotkey after each rule (over executor classes): the rule names
 * in pipeline order, and each hotkey's points indexed by step. The scores table of `horde validator
 * scores` and the dashboard.
 */
export function pointsByRule(steps: readonly ScoreStepRow[]): { rules: string[]; totals: Map<string, number[]> } {
  const rules: string[] = [];
  const totals = new Map<string, number[]>();
  for (const step of steps) {
    rules[step.step] = step.rule;
    const row = totals.get(step.hotkey) ?? [];
    row[step.step] = (row[step.step] ?? 0) + step.points;
    totals.set(step.hotkey, row);
  }
  return { rules, totals };
}
