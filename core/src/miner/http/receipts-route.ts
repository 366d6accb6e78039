import { open } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { ReceiptPages } from '../receipts/pages.js';
import { decideRange } from './byte-range.js';

/**
 * `GET /receipts/{page}.jsonl`: the receipt pages, served like a static file (ComputeHorde puts
 * nginx in front of the directory). Validators poll the two newest pages with
 * `Range: bytes={bytes they already have}-`; 206 carries the new lines, 416 means nothing new,
 * 404 means no such page.
 */
export function registerReceiptsRoute(app: FastifyInstance, pages: ReceiptPages): void {
  app.get<{ Params: { file: string } }>('/receipts/:file', async (request, reply) => {
    const match = /^(\d{1,15})\.jsonl$/.exec(request.params.file);
    if (!match) return reply.code(404).type('text/plain').send('Not Found');

    let handle;
    try {
      // Pages are replaced by rename on append: the open handle keeps one consistent version.
      handle = await open(pages.pagePath(Number(match[1])), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return reply.code(404).type('text/plain').send('Not Found');
      throw error;
    }

    const { size, mtime } = await handle.stat();
    const decision = decideRange(request.headers.range, size);
    reply.header('accept-ranges', 'bytes').header('last-modified', mtime.toUTCString()).type('application/jsonl');

    if (decision.kind === 'unsatisfiable') {
      await handle.close();
      return reply.code(416).header('content-range', `bytes */${size}`).send('');
    }
    if (decision.kind === 'full') {
      reply.code(200).header('content-length', size);
      return reply.send(handle.createReadStream({ start: 0, autoClose: true }));
    }
    const { start, end } = decision.range;
    reply
      .code(206)
      .header('content-range', `bytes ${start}-${end}/${size}`)
      .header('content-length', end - start + 1);
    return reply.send(handle.createReadStream({ start, end, autoClose: true }));
  });
}
