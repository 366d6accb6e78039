import type { Knex } from 'knex';
import type { JobStartedReceiptPayload, Receipt, ReceiptPayload } from '../../contracts/index.js';
import { datetimeToEpochMicros } from '../../protocol/datetime.js';
import { fromJsonColumn, toJsonColumn } from '../../store/json.js';
import { toMillis } from './rows.js';

/** A receipt both parties signed (the only kind the miner stores). */
export type CountersignedReceipt<P extends ReceiptPayload = ReceiptPayload> = Receipt<P> & { miner_signature: string };

/** Receipt timestamps are pydantic datetimes (microseconds); milliseconds are enough to order and expire them. */
export function receiptTimestampMs(payload: ReceiptPayload): number {
  const micros = datetimeToEpochMicros(payload.timestamp);
  if (micros === null) throw new Error(`receipt ${payload.job_uuid} has an unreadable timestamp: ${payload.timestamp}`);
  return Number(micros / 1000n);
}

interface ReceiptRow {
  payload: string;
  validator_signature: string;
  miner_signature: string;
}

function fromRow<P extends ReceiptPayload>(row: ReceiptRow): CountersignedReceipt<P> {
  return {
    payload: fromJsonColumn<P>(row.payload),
    validator_signature: row.validator_signature,
    miner_signature: row.miner_signature,
  };
}

/** `miner_receipts`: one row per (job, receipt type), unique. */
export class MinerReceiptsRepository {
  constructor(
    private readonly db: Knex,
    private readonly now: () => number,
  ) {}

  /** Stores a countersigned receipt. Returns false (and stores nothing) when it is already there. */
  async insert(receipt: CountersignedReceipt): Promise<boolean> {
    const p = receipt.payload;
    const started = p.receipt_type === 'JobStartedReceipt' ? p : null;
    const inserted = await this.db('miner_receipts')
      .insert({
        job_uuid: p.job_uuid,
        receipt_type: p.receipt_type,
        validator_hotkey: p.validator_hotkey,
        miner_hotkey: p.miner_hotkey,
        timestamp: receiptTimestampMs(p),
        executor_class: started?.executor_class ?? null,
        is_organic: started ? started.is_organic : null,
        ttl: started?.ttl ?? null,
        payload: toJsonColumn(p),
        validator_signature: receipt.validator_signature,
        miner_signature: receipt.miner_signature,
        created_at: this.now(),
      })
      .onConflict(['job_uuid', 'receipt_type'])
      .ignore()
      .returning('id');
    return inserted.length > 0;
  }

  async get(jobUuid: string, receiptType: ReceiptPayload['receipt_type']): Promise<CountersignedReceipt | null> {
    const row = (await this.db('miner_receipts').where({ job_uuid: jobUuid, receipt_type: receiptType }).first()) as
      | ReceiptRow
      | undefined;
    return row ? fromRow(row) : null;
  }

  /**
   * Busy excuses: started receipts of organic jobs on `executorClass` that were valid at `at` ms
   * (issued at or before it, ttl not yet over), other than the declined job itself. This is the
   * query ComputeHorde's miner runs before declining with `busy`.
   */
  async excuses(query: { executorClass: string; at: number; excludeJobUuid: string }): Promise<CountersignedReceipt<JobStartedReceiptPayload>[]> {
    const rows = (await this.db('miner_receipts')
      .where({ receipt_type: 'JobStartedReceipt', executor_class: query.executorClass, is_organic: true })
      .andWhere('timestamp', '<=', query.at)
      .andWhereRaw('?? + ?? * 1000 >= ?', ['timestamp', 'ttl', query.at])
      .andWhereNot('job_uuid', query.excludeJobUuid)
      .orderBy('timestamp', 'asc')
      .select('payload', 'validator_signature', 'miner_signature')) as ReceiptRow[];
    return rows.map((row) => fromRow<JobStartedReceiptPayload>(row));
  }

  async count(): Promise<number> {
    const row = (await this.db('miner_receipts').count({ n: '*' }).first()) as { n: unknown } | undefined;
    return row ? toMillis(row.n) : 0;
  }

  /** Deletes receipts whose payload timestamp is before `cutoff` ms. */
  async evictOlderThan(cutoff: number): Promise<number> {
    return await this.db('miner_receipts').where('timestamp', '<', cutoff).delete();
  }
}
