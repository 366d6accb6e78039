import type { Knex } from 'knex';
import type { Store } from '../../contracts/index.js';
import { JOB_END_STATUSES, type JobStatus } from '../../protocol/enums.js';
import type { JobStatusMetadata } from '../../protocol/facilitator-messages.js';
import { insertOnce } from '../../store/insert-once.js';
import { fromJsonColumn, toJsonColumn } from '../../store/json.js';

const toNumber = (value: unknown): number => (typeof value === 'string' ? Number(value) : (value as number));

export interface OrganicJobRow {
  readonly jobUuid: string;
  readonly minerHotkey: string | null;
  readonly executorClass: string;
  readonly namespace: string | null;
  readonly onTrustedMiner: boolean;
  readonly signatory: string;
  readonly status: JobStatus;
  readonly statusMetadata: JobStatusMetadata | null;
  readonly cycle: number | null;
  readonly cheated: boolean;
  readonly createdAt: number;
  /** When the miner's collateral was slashed for this job (null: not slashed). */
  readonly slashedAt: number | null;
  readonly slashTx: string | null;
  readonly slashAttempts: number;
  readonly slashError: string | null;
}

export type BlacklistReason = 'job_cheated' | 'cross_check_failed' | 'manual';

/** What a job that was in flight when its validator process ended says about how it ended. */
export const RESTARTED_WHILE_RUNNING: JobStatusMetadata = {
  horde_failure_details: {
    reported_by: 'validator',
    reason: 'unhandled_exception',
    message: 'the validator restarted while running the job',
    context: null,
  },
};

/** The organic path's tables (`validator_organic_jobs`, `validator_miner_blacklist`). */
export class OrganicStore {
  private readonly db: Knex;

  constructor(
    store: Store,
    readonly validatorHotkey: string,
    /** The validator worker this process is (its PostgreSQL session pid), recorded with each job it takes; null for a single process. */
    private readonly workerPid: number | null = null,
  ) {
    this.db = store.db;
  }

  /** Records a job on arrival; false when this validator already has it (the facilitator re-sent it). */
  async addJob(job: {
    jobUuid: string;
    executorClass: string;
    namespace: string | null;
    onTrustedMiner: boolean;
    signatory: string;
    now: number;
  }): Promise<boolean> {
    return insertOnce(
      this.db,
      'validator_organic_jobs',
      { job_uuid: job.jobUuid },
      {
        job_uuid: job.jobUuid,
        validator_hotkey: this.validatorHotkey,
        executor_class: job.executorClass,
        namespace: job.namespace,
        on_trusted_miner: job.onTrustedMiner,
        signatory: job.signatory,
        worker_pid: this.workerPid,
        status: 'received',
        created_at: job.now,
        updated_at: job.now,
      },
    );
  }

  async job(jobUuid: string): Promise<OrganicJobRow | null> {
    const row = await this.db('validator_organic_jobs').where({ job_uuid: jobUuid, validator_hotkey: this.validatorHotkey }).first();
    if (!row) return null;
    return {
      jobUuid: row.job_uuid,
      minerHotkey: row.miner_hotkey ?? null,
      executorClass: row.executor_class,
      namespace: row.namespace ?? null,
      onTrustedMiner: Boolean(row.on_trusted_miner),
      signatory: row.signatory,
      status: row.status as JobStatus,
      statusMetadata: row.status_metadata ? fromJsonColumn<JobStatusMetadata>(row.status_metadata) : null,
      cycle: row.cycle ?? null,
      cheated: Boolean(row.cheated),
      createdAt: toNumber(row.created_at),
      slashedAt: row.slashed_at == null ? null : toNumber(row.slashed_at),
      slashTx: row.slash_tx ?? null,
      slashAttempts: toNumber(row.slash_attempts ?? 0),
      slashError: row.slash_error ?? null,
    };
  }

  async setMiner(jobUuid: string, minerHotkey: string, cycle: number | null, now: number): Promise<void> {
    await this.db('validator_organic_jobs').where({ job_uuid: jobUuid }).update({ miner_hotkey: minerHotkey, cycle, updated_at: now });
  }

  /** The last status relayed (a terminal one keeps its metadata, to answer a re-sent job). */
  async setStatus(jobUuid: string, status: JobStatus, metadata: JobStatusMetadata | null, now: number): Promise<void> {
    await this.db('validator_organic_jobs')
      .where({ job_uuid: jobUuid })
      .update({ status, status_metadata: metadata ? toJsonColumn(metadata) : null, updated_at: now });
  }

  /**
   * Organic jobs this validator had in flight when its process ended without finishing them: they
   * end `horde_failed` at start-up (the process that ran them is gone, and with it their miner
   * connection), so none stays in a non-final status forever and a re-sent job is answered with
   * that final status. Returns the job uuids closed.
   *
   * With validator workers (`alive`: which worker session pids are connected now), the other
   * workers keep running theirs: only jobs of no worker (a single process ran them) or of a worker
   * whose session is gone are closed.
   */
  async closeInterruptedJobs(now: number, alive?: (pids: readonly number[]) => Promise<Set<number>>): Promise<string[]> {
    const open = () =>
      this.db('validator_organic_jobs')
        .where({ validator_hotkey: this.validatorHotkey })
        .whereNotIn('status', [...JOB_END_STATUSES]);
    const rows: Array<{ job_uuid: string; worker_pid: number | null }> = await open().select('job_uuid', 'worker_pid');
    let interrupted = rows;
    if (alive) {
      const pids = [...new Set(rows.flatMap((row) => (row.worker_pid === null ? [] : [Number(row.worker_pid)])))];
      const live = await alive(pids);
      interrupted = rows.filter((row) => row.worker_pid === null || !live.has(Number(row.worker_pid)));
    }
    if (interrupted.length === 0) return [];
    const uuids = interrupted.map((row) => row.job_uuid);
    await open()
      .whereIn('job_uuid', uuids)
      .update({ status: 'horde_failed', status_metadata: toJsonColumn(RESTARTED_WHILE_RUNNING), updated_at: now });
    return uuids;
  }

  /** Marks a job cheated; false when it was already. */
  async markCheated(jobUuid: string, details: unknown, now: number): Promise<boolean> {
    const updated = await this.db('validator_organic_jobs')
      .where({ job_uuid: jobUuid, validator_hotkey: this.validatorHotkey, cheated: false })
      .update({ cheated: true, cheat_reported_at: now, cheat_details: toJsonColumn(details ?? null), updated_at: now });
    return updated > 0;
  }

  /** A slash of the job's miner landed: kept so the job is never slashed twice. */
  async markSlashed(jobUuid: string, tx: string, amountWei: bigint, attempts: number, now: number): Promise<void> {
    await this.db('validator_organic_jobs')
      .where({ job_uuid: jobUuid, validator_hotkey: this.validatorHotkey })
      .update({
        slashed_at: now,
        slash_tx: tx,
        slash_amount_wei: amountWei.toString(),
        slash_error: null,
        slash_attempts: this.db.raw('slash_attempts + ?', [attempts]),
        updated_at: now,
      });
  }

  /** A slash that did not land, with why; `pendingSlashes` finds it again. */
  async recordSlashFailure(jobUuid: string, error: string, attempts: number, now: number): Promise<void> {
    await this.db('validator_organic_jobs')
      .where({ job_uuid: jobUuid, validator_hotkey: this.validatorHotkey })
      .update({ slash_error: error.slice(0, 2000), slash_attempts: this.db.raw('slash_attempts + ?', [attempts]), updated_at: now });
  }

  /** Cheated jobs on a miner whose slash has not landed and has had fewer than `maxAttempts` runs (each run retries transient errors itself). */
  async pendingSlashes(maxAttempts: number): Promise<Array<{ jobUuid: string; minerHotkey: string; lastError: string | null }>> {
    const rows = await this.db('validator_organic_jobs')
      .where({ validator_hotkey: this.validatorHotkey, cheated: true, on_trusted_miner: false })
      .whereNull('slashed_at')
      .whereNotNull('miner_hotkey')
      .where('slash_attempts', '<', maxAttempts)
      .orderBy([{ column: 'cheat_reported_at' }, { column: 'job_uuid' }])
      .select('job_uuid', 'miner_hotkey', 'slash_error');
    return rows.map((row) => ({
      jobUuid: row.job_uuid as string,
      minerHotkey: row.miner_hotkey as string,
      lastError: (row.slash_error as string | null) ?? null,
    }));
  }

  async blacklist(minerHotkey: string, reason: BlacklistReason, details: string, now: number, seconds: number): Promise<void> {
    await this.db('validator_miner_blacklist').insert({
      validator_hotkey: this.validatorHotkey,
      miner_hotkey: minerHotkey,
      reason,
      details: details.slice(0, 2000),
      blacklisted_at: now,
      expires_at: now + Math.round(seconds * 1000),
    });
  }

  /** Miners blacklisted at `now`. */
  async blacklisted(now: number): Promise<Set<string>> {
    const rows = await this.db('validator_miner_blacklist')
      .where({ validator_hotkey: this.validatorHotkey })
      .where('expires_at', '>', now)
      .distinct('miner_hotkey');
    return new Set(rows.map((row) => row.miner_hotkey as string));
  }
}
