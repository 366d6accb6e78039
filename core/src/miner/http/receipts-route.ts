import { open } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { ReceiptPages } from '../receipts/pages.js';
import type { ReceiptServingTally, ServedAnswer } from '../receipts/serving-tally.js';
import { decideRange } from './byte-range.js';

/** Whether an `Accept-Encoding` header accepts gzip (listed, and not with `q=0`). */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  return value.split(',').some((part) => {
    const [name = '', ...params] = part.split(';').map((piece) => piece.trim().toLowerCase());
    if (name !== 'gzip' && name !== '*') return false;
    const q = params.find((param) => param.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/**
 * `GET /receipts/{page}.jsonl`: the receipt pages, served like a static file (ComputeHorde puts
 * nginx in front of the directory). Validators poll the two newest pages with
 * `Range: bytes={bytes they already have}-`; 206 carries the new lines, 416 means nothing new,
 * 404 means no such page. A closed page (older than the current one) asked for whole with
 * `Accept-Encoding: gzip` is sent gzipped (`Content-Encoding: gzip`), as nginx's `gzip_static` sends
 * ComputeHorde's `.jsonl.gz` pages; Range requests always get the uncompressed bytes, so offsets
 * stay the same whichever way a page was first read.
 */
export function registerReceiptsRoute(
  app: FastifyInstance,
  pages: ReceiptPages,
  tally?: ReceiptServingTally,
  now: () => number = Date.now,
): void {
  app.get<{ Params: { file: string } }>('/receipts/:file', async (request, reply) => {
    const match = /^(\d{1,15})\.jsonl$/.exec(request.params.file);
    if (!match) return reply.code(404).type('text/plain').send('Not Found');

    const page = Number(match[1]);
    // The peer's own address (as for the validator websocket): a header would be the client's word.
    const served = (answer: ServedAnswer, bytes: number) =>
      tally?.served({ page, answer, bytes, client: request.raw.socket.remoteAddress ?? 'unknown', at: now() });
    if (request.headers.range === undefined && acceptsGzip(request.headers['accept-encoding'])) {
      const gz = await pages.gzippedPath(page);
      if (gz !== null) {
        const gzHandle = await open(gz, 'r');
        const { size } = await gzHandle.stat();
        served('gzip', size);
        return reply
          .code(200)
          .type('application/jsonl')
          .header('content-encoding', 'gzip')
          .header('vary', 'Accept-Encoding')
          .header('content-length', size)
          .send(gzHandle.createReadStream({ start: 0, autoClose: true }));
      }
    }

    // Pages grow in place: serve only the bytes that were whole lines before the file was opened
    // (an append may be under way; what it adds is the next request's).
    const readable = await pages.readableBytes(page);
    let handle;
    try {
      handle = await open(pages.pagePath(page), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        served('not_found', 0);
        return reply.code(404).type('text/plain').send('Not Found');
      }
      throw error;
    }

    const stat = await handle.stat();
    const { mtime } = stat;
    const size = Math.min(stat.size, readable ?? 0);
    const decision = decideRange(request.headers.range, size);
    reply
      .header('accept-ranges', 'bytes')
      .header('vary', 'Accept-Encoding')
      .header('last-modified', mtime.toUTCString())
      .type('application/jsonl');

    if (decision.kind === 'unsatisfiable') {
      await handle.close();
      served('nothing_new', 0);
      return reply.code(416).header('content-range', `bytes */${size}`).send('');
    }
    if (decision.kind === 'full') {
      reply.code(200).header('content-length', size);
      served('full', size);
      if (size === 0) {
        await handle.close();
        return reply.send('');
      }
      return reply.send(handle.createReadStream({ start: 0, end: size - 1, autoClose: true }));
    }
    const { start, end } = decision.range;
    served('partial', end - start + 1);
    reply
      .code(206)
      .header('content-range', `bytes ${start}-${end}/${size}`)
      .header('content-length', end - start + 1);
    return reply.send(handle.createReadStream({ start, end, autoClose: true }));
  });
}
