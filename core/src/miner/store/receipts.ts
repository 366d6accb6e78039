import type { Knex } from 'knex';
import type { JobStartedReceiptPayload, Receipt, ReceiptPayload } from '../../contracts/index.js';
import type { CountersignedReceipt } from '../../protocol/receipt-pages.js';

export { receiptTimestampMs, type CountersignedReceipt } from '../../protocol/receipt-pages.js';
import { receiptColumns, receiptFromRow, type StoredReceiptRow } from '../../store/receipt-rows.js';
import { runQuery } from '../../store/direct.js';
import { toMillis } from './rows.js';

/** `miner_receipts`: one row per (job, receipt type), unique. */
export class MinerReceiptsRepository {
  constructor(
    private readonly db: Knex,
    private readonly now: () => number,
  ) {}

  /**
   * Stores a countersigned receipt. Returns false (and stores nothing) when it is already there.
   */
  async insert(receipt: CountersignedReceipt): Promise<boolean> {
    return this.stored(await runQuery(this.db, this.insertQuery(receipt)));
  }

  /**
   * The insert of `insert`, to run in a transaction of the caller's (the accept path writes the
   * started receipt with the job's row, one commit); `stored` reads its rows.
   */
  insertQuery(receipt: CountersignedReceipt): Knex.QueryBuilder {
    const p = receipt.payload;
    // Started and accepted receipts both say how long they prove the executor busy.
    const ttl = p.receipt_type === 'JobFinishedReceipt' ? null : p.ttl;
    return this.db('miner_receipts')
      .insert({ ...receiptColumns(receipt), ttl, created_at: this.now() })
      .onConflict(['job_uuid', 'receipt_type'])
      .ignore()
      .returning('id');
  }

  /** Whether `insertQuery`'s rows say the receipt was stored (false: it was there already). */
  stored(rows: readonly unknown[] | undefined): boolean {
    return rows !== undefined && rows.length > 0;
  }

  async get(jobUuid: string, receiptType: ReceiptPayload['receipt_type']): Promise<CountersignedReceipt | null> {
    const row = (await this.db('miner_receipts').where({ job_uuid: jobUuid, receipt_type: receiptType }).first()) as
      StoredReceiptRow | undefined;
    return row ? receiptFromRow(row) : null;
  }

  /**
   * Busy excuses: started receipts of organic jobs on `executorClass` that hold an executor at `at`
   * ms, other than the declined job itself. ComputeHorde's miner sends those whose own ttl (the
   * few-second reservation window) covers `at`; this one also sends those whose job's accepted
   * receipt covers it (its ttl is the job's whole span) and that have no finished receipt yet,
   * followed by those accepted receipts, so a long organic job excuses declines until it ends.
   * ComputeHorde validators count the started receipts and skip the others.
   */
  async excuses(query: { executorClass: string; at: number; excludeJobUuid: string }): Promise<CountersignedReceipt[]> {
    const acceptedCovering = this.db('miner_receipts as a')
      .where('a.receipt_type', 'JobAcceptedReceipt')
      .andWhereRaw('?? = ??', ['a.job_uuid', 's.job_uuid'])
      .andWhere('a.timestamp', '<=', query.at)
      .andWhereRaw('?? + ?? * 1000 >= ?', ['a.timestamp', 'a.ttl', query.at]);
    const finishedBefore = this.db('miner_receipts as f')
      .where('f.receipt_type', 'JobFinishedReceipt')
      .andWhereRaw('?? = ??', ['f.job_uuid', 's.job_uuid'])
      .andWhere('f.timestamp', '<=', query.at);
    const started = (await this.db('miner_receipts as s')
      .where({ 's.receipt_type': 'JobStartedReceipt', 's.executor_class': query.executorClass, 's.is_organic': true })
      .andWhere('s.timestamp', '<=', query.at)
      .andWhereNot('s.job_uuid', query.excludeJobUuid)
      .andWhere((q) => q.whereRaw('?? + ?? * 1000 >= ?', ['s.timestamp', 's.ttl', query.at]).orWhereExists(acceptedCovering))
      .whereNotExists(finishedBefore)
      .orderBy('s.timestamp', 'asc')
      .select('s.job_uuid', 's.payload', 's.validator_signature', 's.miner_signature')) as Array<StoredReceiptRow & { job_uuid: string }>;
    if (started.length === 0) return [];
    const accepted = (await this.db('miner_receipts')
      .where('receipt_type', 'JobAcceptedReceipt')
      .whereIn(
        'job_uuid',
        started.map((row) => row.job_uuid),
      )
      .orderBy('timestamp', 'asc')
      .select('payload', 'validator_signature', 'miner_signature')) as StoredReceiptRow[];
    return [...started.map((row) => receiptFromRow<JobStartedReceiptPayload>(row)), ...accepted.map((row) => receiptFromRow(row))];
  }

  async count(): Promise<number> {
    const row = (await this.db('miner_receipts').count({ n: '*' }).first()) as { n: unknown } | undefined;
    return row ? toMillis(row.n) : 0;
  }

  /** Receipts stored, by the validator that signed them and receipt type, with the newest receipt's time. */
  async countsByValidatorAndType(): Promise<
    Array<{ validatorHotkey: string; receiptType: ReceiptPayload['receipt_type']; count: number; newestAt: number }>
  > {
    const rows = (await this.db('miner_receipts')
      .groupBy('validator_hotkey', 'receipt_type')
      .select('validator_hotkey', 'receipt_type')
      .count({ n: '*' })
      .max({ newest: 'timestamp' })) as Array<{
      validator_hotkey: string;
      receipt_type: ReceiptPayload['receipt_type'];
      n: unknown;
      newest: unknown;
    }>;
    return rows
      .map((row) => ({
        validatorHotkey: row.validator_hotkey,
        receiptType: row.receipt_type,
        count: toMillis(row.n),
        newestAt: toMillis(row.newest),
      }))
      .sort((a, b) => a.validatorHotkey.localeCompare(b.validatorHotkey) || a.receiptType.localeCompare(b.receiptType));
  }

  /** Deletes receipts whose payload timestamp is before `cutoff` ms. */
  async evictOlderThan(cutoff: number): Promise<number> {
    return await this.db('miner_receipts').where('timestamp', '<', cutoff).delete();
  }
}
