import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Receipt, Store } from '../../contracts/index.js';
import type { TableSection } from '../../dashboard/view.js';
import { openStore } from '../../store/index.js';
import { registerReceiptsRoute } from '../http/receipts-route.js';
import { receiptsServedSection, receiptsStoredSection } from '../dashboard-page.js';
import { createMinerStore, type MinerStore } from '../store/index.js';
import { ReceiptPages, receiptPageAt } from './pages.js';
import { ReceiptServingTally } from './serving-tally.js';

// What the miner's dashboard says about its receipts: the pages served over real HTTP (a listening
// fastify, fetched as a validator fetches them) and the receipts in a real store.

const text = (cell: unknown) => (cell !== null && typeof cell === 'object' ? (cell as { text: string }).text : String(cell));

function receipt(
  jobUuid: string,
  type: 'JobAcceptedReceipt' | 'JobFinishedReceipt',
  validator: string,
  at: string,
): Receipt & { miner_signature: string } {
  const payload =
    type === 'JobAcceptedReceipt'
      ? { receipt_type: type, job_uuid: jobUuid, miner_hotkey: 'm', validator_hotkey: validator, timestamp: at, time_accepted: at, ttl: 60 }
      : {
          receipt_type: type,
          job_uuid: jobUuid,
          miner_hotkey: 'm',
          validator_hotkey: validator,
          timestamp: at,
          time_started: at,
          time_took_us: 1_000_000,
          score_str: '1',
        };
  return { payload, validator_signature: '0x01', miner_signature: '0x02' } as Receipt & { miner_signature: string };
}

describe('receipts on the miner dashboard', () => {
  let dir: string;
  let app: FastifyInstance;
  let base: string;
  let store: Store;
  let miner: MinerStore;
  let now = Date.parse('2026-01-02T03:04:05Z');
  let pages: ReceiptPages;
  const serving = new ReceiptServingTally();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'horde-served-'));
    pages = new ReceiptPages(join(dir, 'receipts'), () => now);
    app = Fastify();
    registerReceiptsRoute(app, pages, serving, () => now);
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    store = await openStore({ client: 'sqlite', filename: ':memory:' });
    miner = createMinerStore(store.db, () => now);
  });
  afterAll(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts every page fetch by page and answer, with bytes, time and client, and shows the newest pages', async () => {
    const first = receiptPageAt(now);
    await pages.append([receipt('a', 'JobAcceptedReceipt', 'v1', '2026-01-02T03:04:05.000000Z')]);
    const whole = await fetch(`${base}/receipts/${first}.jsonl`);
    const size = Buffer.byteLength(await whole.text());
    expect((await fetch(`${base}/receipts/${first}.jsonl`, { headers: { range: `bytes=${size}-` } })).status).toBe(416);
    now += 10_000;
    await pages.append([receipt('b', 'JobFinishedReceipt', 'v1', '2026-01-02T03:04:15.000000Z')]);
    const more = await fetch(`${base}/receipts/${first}.jsonl`, { headers: { range: `bytes=${size}-` } });
    expect(more.status).toBe(206);
    const moreBytes = Buffer.byteLength(await more.text());
    expect((await fetch(`${base}/receipts/${first + 1}.jsonl`)).status).toBe(404);
    // A name that is not a page is not a page fetch.
    expect((await fetch(`${base}/receipts/nope.jsonl`)).status).toBe(404);

    expect(serving.fetches).toBe(4);
    expect(serving.byPage()).toEqual([
      { page: first + 1, fetches: 1, byAnswer: { not_found: 1 }, bytes: 0, lastServedAt: now, lastClient: '127.0.0.1' },
      {
        page: first,
        fetches: 3,
        byAnswer: { full: 1, nothing_new: 1, partial: 1 },
        bytes: size + moreBytes,
        lastServedAt: now,
        lastClient: '127.0.0.1',
      },
    ]);
    expect(serving.byClient()).toEqual([{ client: '127.0.0.1', fetches: 4, bytes: size + moreBytes, lastServedAt: now }]);

    now += 30_000;
    const section = await receiptsServedSection(pages, serving, now);
    expect(section.rows.map((row) => row.map(text))).toEqual([
      [String(first + 1), '03:05–03:10 UTC', 'not on disk', '1', '404 ×1', '0 B', '30.0 s ago', '127.0.0.1'],
      [
        String(first),
        '03:00–03:05 UTC',
        `${size + moreBytes} B`,
        '3',
        '200 ×1, 416 ×1, 206 ×1',
        `${size + moreBytes} B`,
        '30.0 s ago',
        '127.0.0.1',
      ],
    ]);
    expect(section.note).toContain('4 fetches by 1 address, last by 127.0.0.1 30.0 s ago');
  });

  it('shows the receipts stored by validator and type', async () => {
    await miner.receipts.insert(receipt('j1', 'JobAcceptedReceipt', 'v1', '2026-01-02T03:04:05.000000Z'));
    await miner.receipts.insert(receipt('j1', 'JobFinishedReceipt', 'v1', '2026-01-02T03:04:09.000000Z'));
    await miner.receipts.insert(receipt('j2', 'JobAcceptedReceipt', 'v1', '2026-01-02T03:04:06.000000Z'));
    await miner.receipts.insert(receipt('j3', 'JobAcceptedReceipt', 'v2', '2026-01-02T03:04:07.000000Z'));
    const section: TableSection = await receiptsStoredSection(miner, Date.parse('2026-01-02T03:04:19Z'));
    expect(section.rows.map((row) => row.map(text))).toEqual([
      ['v1', '0', '2', '1', '3', '10.0 s ago'],
      ['v2', '0', '1', '0', '1', '12.0 s ago'],
    ]);
  });

  it('keeps its counters bounded whatever pages and addresses clients make up', () => {
    const tally = new ReceiptServingTally();
    for (let i = 0; i < 5_000; i++) tally.served({ page: i, answer: 'not_found', bytes: 0, client: `10.0.${i >> 8}.${i & 255}`, at: i });
    expect(tally.fetches).toBe(5_000);
    expect(tally.byPage()).toHaveLength(1_000);
    expect(tally.byPage()[0]!.page).toBe(4_999);
    expect(tally.byClient()).toHaveLength(256);
  });
});
