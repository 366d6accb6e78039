import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Receipt } from '../../contracts/index.js';
import { ReceiptPages, receiptLine, receiptPageAt } from './pages.js';

function receipt(jobUuid: string): Receipt {
  return {
    payload: {
      receipt_type: 'JobStartedReceipt',
      job_uuid: jobUuid,
      miner_hotkey: 'm',
      validator_hotkey: 'v',
      timestamp: '2026-01-02T03:04:05.000000Z',
      executor_class: 'always_on.test',
      is_organic: true,
      ttl: 30,
    },
    validator_signature: '0x01',
    miner_signature: '0x02',
  };
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function pagesAt(now: () => number): ReceiptPages {
  const dir = mkdtempSync(join(tmpdir(), 'horde-pages-'));
  dirs.push(dir);
  return new ReceiptPages(dir, now);
}

describe('ReceiptPages.append', () => {
  it('keeps every receipt of concurrent appends, whole lines in call order, each caller resolved once its line is readable', async () => {
    const at = Date.UTC(2026, 0, 2, 3, 4, 5);
    const pages = pagesAt(() => at);
    const receipts = Array.from({ length: 300 }, (_, i) => receipt(`job-${i}`));
    const readable = await Promise.all(
      receipts.map(async (r) => {
        await pages.append([r]);
        // Resolved means readable: the caller's line is on the page now.
        return readFileSync(pages.pagePath(receiptPageAt(at)), 'utf8').includes(r.payload.job_uuid);
      }),
    );
    expect(readable.every(Boolean)).toBe(true);
    const lines = readFileSync(pages.pagePath(receiptPageAt(at)), 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toEqual(receipts.map(receiptLine));
  });

  it('starts a new page when the clock passes a page boundary, without mixing the batches', async () => {
    let now = Date.UTC(2026, 0, 2, 3, 4, 59, 900);
    const pages = pagesAt(() => now);
    const first = pages.append([receipt('early')]);
    now += 300_000;
    const second = pages.append([receipt('late')]);
    await Promise.all([first, second]);
    expect(readFileSync(pages.pagePath(receiptPageAt(now - 300_000)), 'utf8')).toBe(`${receiptLine(receipt('early'))}\n`);
    expect(readFileSync(pages.pagePath(receiptPageAt(now)), 'utf8')).toBe(`${receiptLine(receipt('late'))}\n`);
  });

  it('fails every caller of a batch that could not be written, and writes the next batch', async () => {
    const at = Date.UTC(2026, 0, 2, 3, 4, 5);
    const pages = pagesAt(() => at);
    // A directory where the page file should be: the copy fails.
    await pages.append([receipt('first')]);
    const path = pages.pagePath(receiptPageAt(at));
    rmSync(path);
    mkdirSync(path);
    const failing = [pages.append([receipt('a')]), pages.append([receipt('b')])];
    for (const result of await Promise.allSettled(failing)) expect(result.status).toBe('rejected');
    rmSync(path, { recursive: true });
    writeFileSync(path, '');
    await pages.append([receipt('c')]);
    expect(readFileSync(path, 'utf8')).toBe(`${receiptLine(receipt('c'))}\n`);
  });

  it('serves whole lines only and cuts a line torn by a crash before the next append', async () => {
    const at = Date.UTC(2026, 0, 2, 3, 4, 5);
    const page = receiptPageAt(at);
    const first = `${receiptLine(receipt('first'))}\n`;
    // A previous process died half-way through writing its second line.
    const dir = mkdtempSync(join(tmpdir(), 'horde-pages-'));
    dirs.push(dir);
    writeFileSync(join(dir, `${page}.jsonl`), `${first}{"payload":{"recei`);
    const pages = new ReceiptPages(dir, () => at);
    expect(await pages.readableBytes(page)).toBe(Buffer.byteLength(first));
    expect(await pages.readableBytes(page + 1)).toBeNull();
    await pages.append([receipt('second')]);
    const text = `${first}${receiptLine(receipt('second'))}\n`;
    expect(readFileSync(pages.pagePath(page), 'utf8')).toBe(text);
    expect(await pages.readableBytes(page)).toBe(Buffer.byteLength(text));
  });
});
