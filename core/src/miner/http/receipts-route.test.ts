import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Receipt } from '../../contracts/index.js';
import { ReceiptPages, receiptLine, receiptPageAt } from '../receipts/pages.js';
import { decideRange } from './byte-range.js';
import { acceptsGzip, registerReceiptsRoute } from './receipts-route.js';

function receipt(jobUuid: string): Receipt {
  return {
    payload: {
      receipt_type: 'JobAcceptedReceipt',
      job_uuid: jobUuid,
      miner_hotkey: 'm',
      validator_hotkey: 'v',
      timestamp: '2026-01-02T03:04:05.000000Z',
      time_accepted: '2026-01-02T03:04:05.000000Z',
      ttl: 60,
    },
    validator_signature: '0x01',
    miner_signature: '0x02',
  };
}

describe('decideRange', () => {
  it('follows nginx for the forms receipt transfer uses', () => {
    expect(decideRange(undefined, 10)).toEqual({ kind: 'full' });
    expect(decideRange('bytes=4-', 10)).toEqual({ kind: 'partial', range: { start: 4, end: 9 } });
    expect(decideRange('bytes=0-3', 10)).toEqual({ kind: 'partial', range: { start: 0, end: 3 } });
    expect(decideRange('bytes=5-100', 10)).toEqual({ kind: 'partial', range: { start: 5, end: 9 } });
    expect(decideRange('bytes=-3', 10)).toEqual({ kind: 'partial', range: { start: 7, end: 9 } });
    expect(decideRange('bytes=10-', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(decideRange('bytes=0-1,4-5', 10)).toEqual({ kind: 'full' });
    expect(decideRange('items=0-1', 10)).toEqual({ kind: 'full' });
    expect(decideRange('bytes=5-2', 10)).toEqual({ kind: 'full' });
  });
});

describe('acceptsGzip', () => {
  it('reads Accept-Encoding as RFC 9110 does', () => {
    expect(acceptsGzip('gzip')).toBe(true);
    expect(acceptsGzip('deflate, GZIP;q=0.5')).toBe(true);
    expect(acceptsGzip('*')).toBe(true);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('identity')).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
  });
});

describe('GET /receipts/{page}.jsonl', () => {
  let dir: string;
  let app: FastifyInstance;
  let now = Date.parse('2026-01-02T03:04:05Z');
  let pages: ReceiptPages;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'horde-pages-'));
    pages = new ReceiptPages(join(dir, 'receipts'), () => now);
    app = Fastify();
    registerReceiptsRoute(app, pages);
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves appended receipts whole, then only the new bytes with a Range request', async () => {
    const page = receiptPageAt(now);
    await Promise.all([pages.append([receipt('a')]), pages.append([receipt('b')])]);
    const first = await app.inject({ url: `/receipts/${page}.jsonl` });
    expect(first.statusCode).toBe(200);
    expect(first.headers['accept-ranges']).toBe('bytes');
    expect(first.body).toBe(`${receiptLine(receipt('a'))}\n${receiptLine(receipt('b'))}\n`);

    const have = Buffer.byteLength(first.body);
    const nothingNew = await app.inject({ url: `/receipts/${page}.jsonl`, headers: { range: `bytes=${have}-` } });
    expect(nothingNew.statusCode).toBe(416);
    expect(nothingNew.headers['content-range']).toBe(`bytes */${have}`);

    await pages.append([receipt('c')]);
    const more = await app.inject({ url: `/receipts/${page}.jsonl`, headers: { range: `bytes=${have}-` } });
    expect(more.statusCode).toBe(206);
    const total = have + Buffer.byteLength(more.body);
    expect(more.headers['content-range']).toBe(`bytes ${have}-${total - 1}/${total}`);
    expect(JSON.parse(more.body)).toEqual(receipt('c'));
  });

  it('serves a closed page gzipped to a client that accepts gzip, and the current page plain', async () => {
    const page = receiptPageAt(now);
    const current = await app.inject({ url: `/receipts/${page}.jsonl`, headers: { 'accept-encoding': 'gzip' } });
    expect(current.headers['content-encoding']).toBeUndefined();

    now += 300_000; // the page closes
    const closed = await app.inject({ url: `/receipts/${page}.jsonl`, headers: { 'accept-encoding': 'gzip, deflate' } });
    expect(closed.statusCode).toBe(200);
    expect(closed.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(closed.rawPayload).toString()).toBe(current.body);
    // Range requests (a validator that read part of it while it was active) get the plain bytes.
    const ranged = await app.inject({ url: `/receipts/${page}.jsonl`, headers: { 'accept-encoding': 'gzip', range: 'bytes=1-' } });
    expect(ranged.statusCode).toBe(206);
    expect(ranged.headers['content-encoding']).toBeUndefined();
    expect(ranged.body).toBe(current.body.slice(1));
    const refused = await app.inject({ url: `/receipts/${page}.jsonl`, headers: { 'accept-encoding': 'gzip;q=0' } });
    expect(refused.headers['content-encoding']).toBeUndefined();
    now -= 300_000;
  });

  it('answers 404 for a page that does not exist or a name that is not a page', async () => {
    expect((await app.inject({ url: '/receipts/1.jsonl' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/receipts/..%2Fsecret.jsonl' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/receipts/abc.jsonl' })).statusCode).toBe(404);
  });

  it('starts a new page every 5 minutes and evicts pages older than the retention', async () => {
    const firstPage = receiptPageAt(now);
    now += 300_000;
    await pages.append([receipt('d')]);
    expect(await pages.pages()).toEqual([firstPage, firstPage + 1]);
    expect(await pages.evictOlderThan(now)).toBe(1);
    expect(await pages.pages()).toEqual([firstPage + 1]);
    expect((await app.inject({ url: `/receipts/${firstPage}.jsonl` })).statusCode).toBe(404);
  });
});
