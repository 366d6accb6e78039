import { MAX_RECEIPT_LINE_BYTES } from './receipt-lines.js';
import { ReceiptPageFetchError } from './errors.js';

export interface PageFetchOptions {
  /** Uncompressed bytes of the page already read: asked for with `Range: bytes={offset}-`. */
  readonly offset: number;
  /** Ask for the page gzipped (a closed page read from its start). */
  readonly gzip: boolean;
  /** The whole request, body included, must end within this. */
  readonly timeoutMs: number;
  /** Most uncompressed bytes read in one fetch; the rest waits for the next one. */
  readonly maxBytes: number;
}

export interface PageFetchResult {
  /** `found`: bytes came back; `nothing_new`: 416; `missing`: 404. */
  readonly status: 'found' | 'nothing_new' | 'missing';
  /** Whole lines read (without their newline), in page order. */
  readonly lines: string[];
  /** Bytes those lines and their newlines take: the checkpoint moves by this much. */
  readonly consumed: number;
  /** The body was read to its end (no error, no limit reached). */
  readonly ended: boolean;
  /** Why the body was not read to its end; the lines before it are still good. */
  readonly error: ReceiptPageFetchError | null;
}

const NEWLINE = 0x0a;

/** Collects whole lines from a byte stream, counting the bytes they take. */
class LineCollector {
  readonly lines: string[] = [];
  consumed = 0;
  private partial: Buffer[] = [];
  private partialBytes = 0;

  /** Adds a chunk; false once a line runs past `MAX_RECEIPT_LINE_BYTES` without ending. */
  push(chunk: Uint8Array): boolean {
    let start = 0;
    for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, start)) {
      const piece = Buffer.from(chunk.subarray(start, i));
      const line = this.partialBytes > 0 ? Buffer.concat([...this.partial, piece]) : piece;
      this.partial = [];
      this.partialBytes = 0;
      this.consumed += line.length + 1;
      if (line.length > 0) this.lines.push(line.toString('utf8'));
      start = i + 1;
    }
    if (start < chunk.length) {
      this.partial.push(Buffer.from(chunk.subarray(start)));
      this.partialBytes += chunk.length - start;
    }
    return this.partialBytes <= MAX_RECEIPT_LINE_BYTES;
  }
}

/** `Content-Range: bytes START-END/SIZE` → START, or null. */
function rangeStart(header: string | null): number | null {
  const match = header === null ? null : /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(header.trim());
  return match ? Number(match[1]) : null;
}

/**
 * Fetches the part of a receipt page after `offset` and returns its whole lines. A line cut by
 * the end of the body, a timeout or the byte limit is left for the next fetch (the checkpoint
 * stops before it). HTTP-level failures are returned as `error`, never thrown: a miner that
 * misbehaves costs the validator one failed fetch.
 */
export async function fetchPageLines(url: string, options: PageFetchOptions): Promise<PageFetchResult> {
  const empty = (status: PageFetchResult['status'], error: ReceiptPageFetchError | null = null): PageFetchResult => ({
    status,
    lines: [],
    consumed: 0,
    ended: error === null,
    error,
  });
  const headers: Record<string, string> = { 'accept-encoding': options.gzip && options.offset === 0 ? 'gzip' : 'identity' };
  if (options.offset > 0) headers.range = `bytes=${options.offset}-`;

  const signal = AbortSignal.timeout(options.timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, { headers, signal, redirect: 'manual' });
  } catch (cause) {
    return empty('found', new ReceiptPageFetchError(url, `request failed: ${(cause as Error).message}`, { cause }));
  }
  if (response.status !== 200 && response.status !== 206) {
    await response.body?.cancel().catch(() => undefined);
    if (response.status === 404) return empty('missing');
    if (response.status === 416) return empty('nothing_new');
    return empty('found', new ReceiptPageFetchError(url, `unexpected HTTP ${response.status}`));
  }

  // A server that ignores Range sends the whole page: skip what was already read.
  let skip = 0;
  if (options.offset > 0) {
    if (response.status === 200) skip = options.offset;
    else if (rangeStart(response.headers.get('content-range')) !== options.offset) {
      await response.body?.cancel().catch(() => undefined);
      return empty(
        'found',
        new ReceiptPageFetchError(
          url,
          `asked for bytes from ${options.offset}, got ${response.headers.get('content-range') ?? 'no Content-Range'}`,
        ),
      );
    }
  }

  const collector = new LineCollector();
  let read = 0;
  let error: ReceiptPageFetchError | null = null;
  try {
    if (response.body) {
      for await (const raw of response.body) {
        let chunk: Uint8Array = raw;
        if (skip > 0) {
          const dropped = Math.min(skip, chunk.length);
          skip -= dropped;
          chunk = chunk.subarray(dropped);
          if (chunk.length === 0) continue;
        }
        read += chunk.length;
        if (!collector.push(chunk)) {
          error = new ReceiptPageFetchError(url, `a line runs past ${MAX_RECEIPT_LINE_BYTES} bytes without ending`);
          break;
        }
        if (read >= options.maxBytes) {
          error = new ReceiptPageFetchError(url, `stopped after ${read} bytes (the limit per fetch is ${options.maxBytes})`);
          break;
        }
      }
    }
  } catch (cause) {
    const reason = signal.aborted ? `timed out after ${options.timeoutMs} ms` : `body failed: ${(cause as Error).message}`;
    error = new ReceiptPageFetchError(url, reason, { cause });
  }
  if (error) await response.body?.cancel().catch(() => undefined);
  return { status: 'found', lines: collector.lines, consumed: collector.consumed, ended: error === null, error };
}
