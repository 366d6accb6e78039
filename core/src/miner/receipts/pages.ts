import { createReadStream, createWriteStream } from 'node:fs';
import { access, copyFile, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { join } from 'node:path';
import type { Receipt } from '../../contracts/index.js';
import { receiptLine, receiptPageAt } from '../../protocol/receipt-pages.js';

// The page format is the wire's (validators read it too): defined in protocol.
export { RECEIPT_PAGE_SECONDS, receiptLine, receiptPageAt } from '../../protocol/receipt-pages.js';

const PAGE_FILE = /^(\d+)\.jsonl$/;

/**
 * The paged receipt files other validators download: `{dir}/{page}.jsonl`, one receipt per line,
 * appended in the order the miner countersigned them. Appends are copy-on-write (copy, append,
 * rename), as ComputeHorde's store does, so an HTTP reader holding the file open always sees whole
 * lines; appends are queued so two never race on one page.
 */
/** Receipts waiting for the next copy-on-write of their page; every caller shares its outcome. */
interface PendingAppend {
  readonly page: number;
  readonly parts: string[];
  done: Promise<void>;
}

export class ReceiptPages {
  private queue: Promise<unknown> = Promise.resolve();
  private ready: Promise<unknown> | null = null;
  private pending: PendingAppend | null = null;

  constructor(
    readonly dir: string,
    private readonly now: () => number,
  ) {}

  pagePath(page: number): string {
    return join(this.dir, `${page}.jsonl`);
  }

  /** A page before the current one: nothing is appended to it any more. */
  isClosed(page: number): boolean {
    return page < receiptPageAt(this.now());
  }

  /**
   * The gzipped copy of a closed page (`{page}.jsonl.gz`), made on first request and kept until
   * the page is evicted; null for the current page (it still grows) or a page that does not exist.
   * The plain page stays too: validators that read part of it while it was active go on with a
   * Range request on the uncompressed bytes.
   */
  async gzippedPath(page: number): Promise<string | null> {
    if (!this.isClosed(page)) return null;
    const gz = `${this.pagePath(page)}.gz`;
    try {
      await access(gz);
      return gz;
    } catch {
      // Not made yet.
    }
    const tmp = `${gz}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      await pipeline(createReadStream(this.pagePath(page)), createGzip(), createWriteStream(tmp));
    } catch (error) {
      await rm(tmp, { force: true });
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    await rename(tmp, gz);
    return gz;
  }

  /**
   * Appends receipts to the current page. Resolves once they are readable. Receipts that arrive
   * while a copy-on-write is running join one batch for the next: each copy costs the page's size,
   * so one copy per receipt made a busy miner's accepts slower the fuller the page got.
   */
  append(receipts: readonly Receipt[]): Promise<void> {
    if (receipts.length === 0) return Promise.resolve();
    const page = receiptPageAt(this.now());
    const text = receipts.map((r) => `${receiptLine(r)}\n`).join('');
    if (this.pending !== null && this.pending.page === page) {
      this.pending.parts.push(text);
      return this.pending.done;
    }
    const batch: PendingAppend = { page, parts: [text], done: Promise.resolve() };
    this.pending = batch;
    batch.done = this.queue.then(() => {
      // From here on the batch is being written: later receipts start the next one.
      if (this.pending === batch) this.pending = null;
      return this.appendToPage(page, batch.parts.join(''));
    });
    // Keep the chain alive after a failed append; the callers still see the error.
    this.queue = batch.done.catch(() => undefined);
    return batch.done;
  }

  private async appendToPage(page: number, text: string): Promise<void> {
    this.ready ??= mkdir(this.dir, { recursive: true });
    await this.ready;
    const path = this.pagePath(page);
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      await copyFile(path, tmp);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await writeFile(tmp, '');
    }
    await writeFile(tmp, text, { flag: 'a' });
    await rename(tmp, path);
  }

  /** Page numbers that have a file, ascending. */
  async pages(): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return names
      .map((name) => PAGE_FILE.exec(name)?.[1])
      .filter((page): page is string => page !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  /** Deletes the pages that hold only receipts older than `cutoff` ms. Returns how many. */
  async evictOlderThan(cutoff: number): Promise<number> {
    const oldest = receiptPageAt(cutoff);
    const old = (await this.pages()).filter((page) => page < oldest);
    await Promise.all(old.flatMap((page) => [rm(this.pagePath(page), { force: true }), rm(`${this.pagePath(page)}.gz`, { force: true })]));
    return old.length;
  }
}
