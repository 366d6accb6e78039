import pLimit from 'p-limit';
import type { Clock, Logger } from '../../contracts/index.js';
import { receiptPageAt } from '../../protocol/receipt-pages.js';
import type { CountersignedReceipt } from '../../protocol/receipt-pages.js';
import type { RefusedLineReason } from './errors.js';
import { fetchPageLines } from './page-fetch.js';
import type { ReceiptSource } from './sources.js';
import type { PageCheckpoint, TransferredReceiptsRepository } from './store.js';
import type { ReceiptLineVerifier } from './verifier-pool.js';

export interface ReceiptTransferSettings {
  /** Between two keep-up passes over the active pages (ComputeHorde: 2 s code, 10 s production). */
  readonly intervalMs: number;
  /** How far back the catch-up pass reads at start (ComputeHorde: 5 h). */
  readonly catchUpMs: number;
  /** Newest pages still being written, polled on every keep-up pass (ComputeHorde: 2). */
  readonly activePages: number;
  readonly catchUpConcurrency: number;
  readonly keepUpConcurrency: number;
  readonly catchUpTimeoutMs: number;
  readonly keepUpTimeoutMs: number;
  /** Most uncompressed bytes read from one page in one fetch. */
  readonly maxPageBytes: number;
  /** How long the list of miners (from the metagraph) is reused before it is read again. */
  readonly sourcesRefreshMs: number;
}

export interface TransferStats {
  pages: number;
  lines: number;
  stored: number;
  refused: number;
  failedFetches: number;
}

export interface ReceiptTransferOptions {
  readonly repository: TransferredReceiptsRepository;
  readonly verifier: ReceiptLineVerifier;
  /** The miners to pull from (normally `receiptSources(metagraph)`). */
  readonly sources: () => Promise<readonly ReceiptSource[]>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly settings: ReceiptTransferSettings;
  /** Told after each page fetch what it brought (the validator's metrics count it). */
  readonly onPageRead?: (report: PageReadReport) => void;
}

/** What one page fetch brought: receipts stored, lines refused by reason, whether the fetch failed. */
export interface PageReadReport {
  readonly endpoint: string;
  /** The miner hotkeys registered at the endpoint (the only ones its pages may name). */
  readonly minerHotkeys: readonly string[];
  /** The page fetched. */
  readonly page: number;
  readonly stored: number;
  readonly refused: Readonly<Partial<Record<RefusedLineReason, number>>>;
  readonly fetchFailed: boolean;
  /** Why the fetch failed, when it did. */
  readonly error: string | null;
}

const emptyStats = (): TransferStats => ({ pages: 0, lines: 0, stored: 0, refused: 0, failedFetches: 0 });

/**
 * Pulls the receipt pages of every miner, as ComputeHorde's `transfer_receipts --daemon` does:
 * one catch-up pass over the pages of the last `catchUpMs`, then a keep-up pass over the active
 * pages every `intervalMs`. Each page is read from its stored checkpoint with an HTTP Range, a
 * closed page read from its start is asked for gzipped, every line is checked (both signatures,
 * the hotkeys the endpoint holds) and stored idempotently, and the checkpoint moves past the lines
 * read, refused ones included. A miner that serves garbage or never ends a page costs one fetch.
 */
export class ReceiptTransfer {
  private timer: NodeJS.Timeout | null = null;
  private passing: Promise<unknown> = Promise.resolve();
  private closed = false;
  private cachedSources: { at: number; sources: readonly ReceiptSource[] } | null = null;
  private readonly log: Logger;

  constructor(private readonly options: ReceiptTransferOptions) {
    this.log = options.logger.child({ component: 'receipt-transfer' });
  }

  /** Catch-up once, then keep-up on the interval, one pass at a time, until `close`. */
  start(): void {
    const loop = async (pass: () => Promise<TransferStats>): Promise<void> => {
      if (this.closed) return;
      this.passing = pass().catch((error: unknown) =>
        this.log.error({ err: error }, 'receipt transfer pass failed; trying again next interval'),
      );
      await this.passing;
      if (!this.closed) this.timer = setTimeout(() => void loop(() => this.keepUp()), this.options.settings.intervalMs);
    };
    void loop(() => this.catchUp());
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.passing;
  }

  /** Reads every page of the catch-up window that is not complete yet. */
  async catchUp(): Promise<TransferStats> {
    const { settings } = this.options;
    const now = this.options.clock.now();
    const newest = receiptPageAt(now);
    const oldest = receiptPageAt(now - settings.catchUpMs);
    const stats = await this.pass(oldest, newest, settings.catchUpConcurrency, settings.catchUpTimeoutMs);
    // Pages before the window are never read again.
    await this.options.repository.forgetCheckpointsBefore(oldest);
    this.log.info({ ...stats, fromPage: oldest, toPage: newest }, 'receipt catch-up done');
    return stats;
  }

  /** Reads the active pages (the newest `activePages`). */
  async keepUp(): Promise<TransferStats> {
    const { settings } = this.options;
    const newest = receiptPageAt(this.options.clock.now());
    const stats = await this.pass(newest - settings.activePages + 1, newest, settings.keepUpConcurrency, settings.keepUpTimeoutMs);
    if (stats.stored > 0 || stats.refused > 0 || stats.failedFetches > 0) this.log.debug({ ...stats }, 'receipt keep-up pass');
    return stats;
  }

  private async sources(): Promise<readonly ReceiptSource[]> {
    const now = this.options.clock.now();
    if (this.cachedSources === null || now - this.cachedSources.at >= this.options.settings.sourcesRefreshMs) {
      this.cachedSources = { at: now, sources: await this.options.sources() };
    }
    return this.cachedSources.sources;
  }

  private async pass(fromPage: number, toPage: number, concurrency: number, timeoutMs: number): Promise<TransferStats> {
    const stats = emptyStats();
    const limit = pLimit(concurrency);
    const sources = await this.sources();
    await Promise.all(
      sources.map(async (source) => {
        const checkpoints = await this.options.repository.checkpoints(source.endpoint);
        const tasks: Promise<void>[] = [];
        for (let page = fromPage; page <= toPage; page++) {
          const checkpoint = checkpoints.get(page) ?? { page, offset: 0, complete: false };
          if (checkpoint.complete) continue;
          tasks.push(limit(() => this.transferPage(source, checkpoint, timeoutMs, stats)));
        }
        await Promise.all(tasks);
      }),
    );
    return stats;
  }

  /** Whether no receipt can be added to `page` any more (it is older than every active page). */
  private closedPage(page: number): boolean {
    return page < receiptPageAt(this.options.clock.now()) - this.options.settings.activePages + 1;
  }

  private async transferPage(source: ReceiptSource, checkpoint: PageCheckpoint, timeoutMs: number, stats: TransferStats): Promise<void> {
    // Pages still queued when the validator closes are left for the next start (checkpoints keep
    // the place), so `close` waits for the fetches in flight only, not for a whole catch-up.
    if (this.closed) return;
    const { repository, verifier, clock } = this.options;
    const url = `${source.baseUrl}/receipts/${checkpoint.page}.jsonl`;
    const log = this.log.child({ endpoint: source.endpoint, page: checkpoint.page });
    const closed = this.closedPage(checkpoint.page);
    stats.pages += 1;
    const fetched = await fetchPageLines(url, {
      offset: checkpoint.offset,
      gzip: closed,
      timeoutMs,
      maxBytes: this.options.settings.maxPageBytes,
    });
    if (fetched.error) {
      stats.failedFetches += 1;
      log.warn({ err: fetched.error, code: fetched.error.code, linesRead: fetched.lines.length }, 'receipt page not read to its end');
    }

    let stored = 0;
    const refusals = new Map<RefusedLineReason, number>();
    if (fetched.lines.length > 0) {
      const verdicts = await verifier.verify(fetched.lines, source.hotkeys);
      const valid: CountersignedReceipt[] = [];
      let example: string | null = null;
      for (const verdict of verdicts) {
        if (verdict.ok) valid.push(verdict.receipt);
        else {
          refusals.set(verdict.reason, (refusals.get(verdict.reason) ?? 0) + 1);
          example ??= `${verdict.reason}: ${verdict.detail}`;
        }
      }
      stored = valid.length > 0 ? await repository.insert(valid, clock.now()) : 0;
      const refused = fetched.lines.length - valid.length;
      stats.lines += fetched.lines.length;
      stats.stored += stored;
      stats.refused += refused;
      if (refused > 0) {
        log.warn(
          {
            code: 'HORDE_RECEIPT_LINE_REFUSED',
            refused,
            reasons: Object.fromEntries(refusals),
            example,
            minerHotkeys: [...source.hotkeys],
          },
          'receipt lines refused',
        );
      }
    }

    // The checkpoint moves past every whole line read (a refused line will not become valid).
    const complete = closed && fetched.ended && (fetched.status !== 'found' || fetched.error === null);
    const offset = checkpoint.offset + fetched.consumed;
    if (offset !== checkpoint.offset || complete !== checkpoint.complete) {
      await repository.saveCheckpoint(source.endpoint, { page: checkpoint.page, offset, complete }, clock.now());
    }
    if (stored > 0) log.debug({ stored }, 'receipts stored');
    const report: PageReadReport = {
      endpoint: source.endpoint,
      minerHotkeys: [...source.hotkeys],
      page: checkpoint.page,
      stored,
      refused: Object.fromEntries(refusals),
      fetchFailed: fetched.error !== null,
      error: fetched.error ? fetched.error.message : null,
    };
    // What each source gave, for the dashboard. A failure to count is logged, never the transfer's end.
    await repository
      .recordPageRead(report, clock.now())
      .catch((error: unknown) => log.warn({ err: error }, 'could not record the receipt source counters'));
    this.options.onPageRead?.(report);
  }
}
