import type { Knex } from 'knex';
import type {
  JobAcceptedReceiptPayload,
  JobFinishedReceiptPayload,
  JobStartedReceiptPayload,
  ReceiptPayload,
  Store,
} from '../../contracts/index.js';
import type { CountersignedReceipt } from '../../protocol/receipt-pages.js';
import { datetimeToEpochMicros } from '../../protocol/datetime.js';
import { fromJsonColumn, toJsonColumn } from '../../store/json.js';
import { receiptColumns, receiptFromRow, type StoredReceiptRow } from '../../store/receipt-rows.js';
import type { PageReadReport } from './transfer.js';

/** Rows per INSERT: far below SQLite's bound-variable limit. */
const CHUNK = 200;

const toNumber = (value: unknown): number => (typeof value === 'string' ? Number(value) : (value as number));

/** What receipt transfer got from one miner endpoint, summed over every page read. */
export interface ReceiptSourceStats {
  readonly endpoint: string;
  readonly minerHotkeys: readonly string[];
  readonly pages: number;
  readonly stored: number;
  readonly refused: number;
  readonly refusedByReason: Readonly<Record<string, number>>;
  readonly fetchFailures: number;
  readonly lastFetchAt: number;
  readonly lastFailureAt: number | null;
  readonly lastError: string | null;
  /** When a checkpoint of this endpoint last moved (null: none stored). */
  readonly lastCheckpointAt: number | null;
}

/** How far one page of one miner has been read. */
export interface PageCheckpoint {
  readonly page: number;
  /** Bytes of the uncompressed page already read (whole lines only). */
  readonly offset: number;
  /** The page was closed and read to its end: it is never fetched again. */
  readonly complete: boolean;
}

/** Receipts transferred from miners whose time falls in a window, by type. */
export interface TransferredReceipts {
  readonly organicStarted: CountersignedReceipt<JobStartedReceiptPayload>[];
  readonly accepted: CountersignedReceipt<JobAcceptedReceiptPayload>[];
  readonly finished: CountersignedReceipt<JobFinishedReceiptPayload>[];
}

/**
 * `validator_transferred_receipts` and `validator_receipt_checkpoints`: what receipt transfer
 * stores. Receipts are stored once per (job, receipt type) whoever pulled them (a second copy is
 * ignored, so pulling a page twice changes nothing); checkpoints belong to the pulling validator.
 */
export class TransferredReceiptsRepository {
  private readonly db: Knex;

  constructor(
    store: Store,
    readonly validatorHotkey: string,
  ) {
    this.db = store.db;
  }

  /** Stores verified receipts; returns how many were new. */
  async insert(receipts: readonly CountersignedReceipt[], receivedAt: number): Promise<number> {
    let inserted = 0;
    for (let i = 0; i < receipts.length; i += CHUNK) {
      const rows = receipts.slice(i, i + CHUNK).map((receipt) => ({ ...receiptColumns(receipt), received_at: receivedAt }));
      const ids = await this.db('validator_transferred_receipts')
        .insert(rows)
        .onConflict(['job_uuid', 'receipt_type'])
        .ignore()
        .returning('id');
      inserted += ids.length;
    }
    return inserted;
  }

  async count(): Promise<number> {
    const row = (await this.db('validator_transferred_receipts').count({ n: '*' }).first()) as { n: unknown } | undefined;
    return row ? toNumber(row.n) : 0;
  }

  /** Checkpoints of one miner endpoint, by page. */
  async checkpoints(endpoint: string): Promise<Map<number, PageCheckpoint>> {
    const rows = await this.db('validator_receipt_checkpoints').where({ validator_hotkey: this.validatorHotkey, endpoint });
    return new Map(
      rows.map((row) => {
        const page = toNumber(row.page);
        return [page, { page, offset: toNumber(row.offset), complete: Boolean(row.complete) }];
      }),
    );
  }

  async saveCheckpoint(endpoint: string, checkpoint: PageCheckpoint, updatedAt: number): Promise<void> {
    await this.db('validator_receipt_checkpoints')
      .insert({
        validator_hotkey: this.validatorHotkey,
        endpoint,
        page: checkpoint.page,
        offset: checkpoint.offset,
        complete: checkpoint.complete,
        updated_at: updatedAt,
      })
      .onConflict(['validator_hotkey', 'endpoint', 'page'])
      .merge(['offset', 'complete', 'updated_at']);
  }

  /** Adds one page fetch to its endpoint's counters (`sourceStats`). */
  async recordPageRead(report: PageReadReport, at: number): Promise<void> {
    const refused = Object.values(report.refused).reduce((sum: number, n) => sum + (n ?? 0), 0);
    const key = { validator_hotkey: this.validatorHotkey, endpoint: report.endpoint };
    const failed = report.fetchFailed ? 1 : 0;
    await this.db.transaction(async (trx) => {
      await trx('validator_receipt_sources')
        .insert({
          ...key,
          miner_hotkeys: toJsonColumn([...report.minerHotkeys].sort()),
          pages: 1,
          stored: report.stored,
          refused,
          fetch_failures: failed,
          last_fetch_at: at,
          last_failure_at: report.fetchFailed ? at : null,
          last_error: report.error?.slice(0, 300) ?? null,
        })
        .onConflict(['validator_hotkey', 'endpoint'])
        .merge({
          miner_hotkeys: toJsonColumn([...report.minerHotkeys].sort()),
          pages: trx.raw('validator_receipt_sources.pages + 1'),
          stored: trx.raw('validator_receipt_sources.stored + ?', [report.stored]),
          refused: trx.raw('validator_receipt_sources.refused + ?', [refused]),
          fetch_failures: trx.raw('validator_receipt_sources.fetch_failures + ?', [failed]),
          last_fetch_at: at,
          ...(report.fetchFailed ? { last_failure_at: at, last_error: report.error?.slice(0, 300) ?? null } : {}),
        });
      for (const [reason, count] of Object.entries(report.refused)) {
        if (!count) continue;
        await trx('validator_receipt_refusals')
          .insert({ ...key, reason, count })
          .onConflict(['validator_hotkey', 'endpoint', 'reason'])
          .merge({ count: trx.raw('validator_receipt_refusals.count + ?', [count]) });
      }
    });
  }

  /** Every endpoint this validator pulled receipts from, the one read last first. */
  async sourceStats(): Promise<ReceiptSourceStats[]> {
    const mine = { validator_hotkey: this.validatorHotkey };
    const [sources, refusals, checkpoints] = await Promise.all([
      this.db('validator_receipt_sources')
        .where(mine)
        .orderBy([{ column: 'last_fetch_at', order: 'desc' }, { column: 'endpoint' }]),
      this.db('validator_receipt_refusals').where(mine).select('endpoint', 'reason', 'count'),
      this.db('validator_receipt_checkpoints').where(mine).groupBy('endpoint').select('endpoint').max({ at: 'updated_at' }),
    ]);
    const reasons = new Map<string, Record<string, number>>();
    for (const row of refusals) {
      const entry = reasons.get(row.endpoint as string) ?? {};
      entry[row.reason as string] = toNumber(row.count);
      reasons.set(row.endpoint as string, entry);
    }
    const lastCheckpoint = new Map(
      (checkpoints as Array<{ endpoint: string; at: unknown }>).map((row) => [row.endpoint, row.at === null ? null : toNumber(row.at)]),
    );
    return sources.map((row) => ({
      endpoint: row.endpoint as string,
      minerHotkeys: fromJsonColumn<string[]>(row.miner_hotkeys),
      pages: toNumber(row.pages),
      stored: toNumber(row.stored),
      refused: toNumber(row.refused),
      refusedByReason: reasons.get(row.endpoint as string) ?? {},
      fetchFailures: toNumber(row.fetch_failures),
      lastFetchAt: toNumber(row.last_fetch_at),
      lastFailureAt: row.last_failure_at === null ? null : toNumber(row.last_failure_at),
      lastError: (row.last_error as string | null) ?? null,
      lastCheckpointAt: lastCheckpoint.get(row.endpoint as string) ?? null,
    }));
  }

  /** Receipts stored, per validator that issued them and receipt type (whoever's miners served them). */
  async countsByIssuer(): Promise<Array<{ validatorHotkey: string; receiptType: string; count: number }>> {
    const rows = (await this.db('validator_transferred_receipts')
      .groupBy('validator_hotkey', 'receipt_type')
      .select('validator_hotkey', 'receipt_type')
      .count({ n: '*' })) as Array<{
      validator_hotkey: string;
      receipt_type: string;
      n: unknown;
    }>;
    return rows
      .map((row) => ({ validatorHotkey: row.validator_hotkey, receiptType: row.receipt_type, count: toNumber(row.n) }))
      .sort((a, b) => a.validatorHotkey.localeCompare(b.validatorHotkey) || a.receiptType.localeCompare(b.receiptType));
  }

  /** Deletes the checkpoints of pages older than `page` (they will never be fetched again). */
  async forgetCheckpointsBefore(page: number): Promise<number> {
    return await this.db('validator_receipt_checkpoints')
      .where({ validator_hotkey: this.validatorHotkey })
      .andWhere('page', '<', page)
      .delete();
  }

  /**
   * Executors of `executorClass` busy at `at` ms on organic jobs of validators other than
   * `exceptValidator`, per miner hotkey: ComputeHorde's router count (`get_busy_executor_count`),
   * with the accepted receipt's ttl covering long jobs: an organic started receipt whose own ttl
   * or whose job's accepted receipt covers `at`, and no finished receipt of the job by then.
   * Only receipts of the last `lookbackMs` are read.
   */
  async busyExecutors(query: {
    executorClass: string;
    at: number;
    exceptValidator: string;
    lookbackMs: number;
  }): Promise<Map<string, number>> {
    const started = (await this.db('validator_transferred_receipts')
      .where({ receipt_type: 'JobStartedReceipt', executor_class: query.executorClass, is_organic: true })
      .whereBetween('timestamp', [query.at - query.lookbackMs, query.at])
      .whereNot('validator_hotkey', query.exceptValidator)
      .select('job_uuid', 'payload')) as Array<{ job_uuid: string; payload: unknown }>;
    if (started.length === 0) return new Map();
    const jobUuids = started.map((row) => row.job_uuid);
    const others = (await this.db('validator_transferred_receipts')
      .whereIn('receipt_type', ['JobAcceptedReceipt', 'JobFinishedReceipt'])
      .whereIn('job_uuid', jobUuids)
      .select('job_uuid', 'receipt_type', 'payload')) as Array<{ job_uuid: string; receipt_type: string; payload: unknown }>;
    const atMs = (iso: string) => Number(datetimeToEpochMicros(iso) ?? Number.NaN) / 1000;
    const acceptedUntil = new Map<string, number>();
    const finishedAt = new Map<string, number>();
    for (const row of others) {
      const payload = fromJsonColumn<ReceiptPayload>(row.payload);
      if (payload.receipt_type === 'JobAcceptedReceipt')
        acceptedUntil.set(row.job_uuid, Math.max(acceptedUntil.get(row.job_uuid) ?? 0, atMs(payload.time_accepted) + payload.ttl * 1000));
      else finishedAt.set(row.job_uuid, Math.min(finishedAt.get(row.job_uuid) ?? Infinity, atMs(payload.timestamp)));
    }
    const busy = new Map<string, number>();
    for (const row of started) {
      const payload = fromJsonColumn<JobStartedReceiptPayload>(row.payload);
      const holdsUntil = Math.max(atMs(payload.timestamp) + payload.ttl * 1000, acceptedUntil.get(row.job_uuid) ?? 0);
      if (!(holdsUntil >= query.at) || (finishedAt.get(row.job_uuid) ?? Infinity) <= query.at) continue;
      busy.set(payload.miner_hotkey, (busy.get(payload.miner_hotkey) ?? 0) + 1);
    }
    return busy;
  }

  /** Receipts with `fromMs <= timestamp <= toMs`, oldest first: organic started, accepted and finished. */
  async inWindow(window: { readonly fromMs: number; readonly toMs: number }): Promise<TransferredReceipts> {
    const rows = (await this.db('validator_transferred_receipts')
      .whereBetween('timestamp', [window.fromMs, window.toMs])
      .andWhere((q) => q.whereNot('receipt_type', 'JobStartedReceipt').orWhere('is_organic', true))
      .orderBy([{ column: 'timestamp' }, { column: 'id' }])
      .select('receipt_type', 'payload', 'validator_signature', 'miner_signature')) as Array<StoredReceiptRow & { receipt_type: string }>;
    const result: TransferredReceipts = { organicStarted: [], accepted: [], finished: [] };
    for (const row of rows) {
      if (row.receipt_type === 'JobStartedReceipt') result.organicStarted.push(receiptFromRow(row));
      else if (row.receipt_type === 'JobAcceptedReceipt') result.accepted.push(receiptFromRow(row));
      else if (row.receipt_type === 'JobFinishedReceipt') result.finished.push(receiptFromRow(row));
    }
    return result;
  }
}
