import { createReadStream, createWriteStream } from 'node:fs';
import { access, appendFile, mkdir, open, readdir, rename, rm, truncate } from 'node:fs/promises';
import { Readable } from 'node:stream';
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
 * appended in the order the miner countersigned them; appends are queued so two never race on one
 * page. Appends write in place (O_APPEND) and then move the page's whole-lines length on
 * (`readableBytes`): readers serve only that many bytes, so they never see half a line. (A
 * copy-on-write, as ComputeHorde's store does, cost the page's size per append: 10 ms and 3.7 ms
 * CPU for a 5.6 MB page, on the accept path, growing all through the page's 5 minutes.) A line
 * torn by a crash or a failed write is cut off before the next append to its page.
 */
/** Receipts waiting for the next append to their page; every caller shares its outcome. */
interface PendingAppend {
  readonly page: number;
  readonly parts: string[];
  done: Promise<void>;
}

export class ReceiptPages {
  private queue: Promise<unknown> = Promise.resolve();
  private ready: Promise<unknown> | null = null;
  private pending: PendingAppend | null = null;
  /** Whole-lines length of the pages this process appended to (the current one). */
  private readonly committed = new Map<number, number>();

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
    // An append begun just before the page closed ends first; only whole lines go in.
    await this.queue;
    try {
      const end = await this.readableBytes(page);
      if (end === null) return null;
      const source = end === 0 ? Readable.from([]) : createReadStream(this.pagePath(page), { start: 0, end: end - 1 });
      await pipeline(source, createGzip(), createWriteStream(tmp));
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

  /**
   * How many bytes of `page` are whole lines on disk now; null when the page has no file. A
   * reader asks this before it opens the page and serves no more: the file only grows, so those
   * bytes are all there, while its size may include a line being written.
   */
  async readableBytes(page: number): Promise<number | null> {
    return this.committed.get(page) ?? (await wholeLinesLength(this.pagePath(page)));
  }

  private async appendToPage(page: number, text: string): Promise<void> {
    this.ready ??= mkdir(this.dir, { recursive: true });
    await this.ready;
    const path = this.pagePath(page);
    let length = this.committed.get(page);
    try {
      if (length === undefined) {
        // First append to this page by this process: cut off a line torn by a crash.
        const whole = await wholeLinesLength(path);
        length = whole ?? 0;
        if (whole !== null) await truncate(path, whole);
      }
      await appendFile(path, text);
      this.committed.set(page, length + Buffer.byteLength(text));
    } catch (error) {
      // Part of the text may be on disk: the next append looks at the file again.
      this.committed.delete(page);
      throw error;
    }
    // Only the current page is appended to: forget the older ones' lengths.
    for (const known of this.committed.keys()) if (known < page) this.committed.delete(known);
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

/** Bytes of the file up to and including its last newline; null when there is no file. */
async function wholeLinesLength(path: string): Promise<number | null> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const chunk = Buffer.alloc(Math.min(size, 64 * 1024));
    // Backwards from the end: a page normally ends with a newline, so this reads one chunk.
    for (let end = size; end > 0; end -= chunk.length) {
      const start = Math.max(0, end - chunk.length);
      const { bytesRead } = await handle.read(chunk, 0, end - start, start);
      const newline = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (newline >= 0) return start + newline + 1;
    }
    return 0;
  } finally {
    await handle.close();
  }
}
