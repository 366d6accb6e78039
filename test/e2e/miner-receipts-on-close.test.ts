/**
 * A validator that closes its connection right after sending receipts loses none of them: the
 * miner handles every frame that arrived before the close (auth included), over real websockets,
 * on SQLite and PostgreSQL. Before the fix, the `close` event marked the session closed and the
 * frames still waiting behind the auth check were dropped.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiptPageAt } from '../../core/src/miner/receipts/pages.js';
import { startTestMiner, type TestMiner } from '../support/miner-harness.js';
import { TestValidator } from '../support/test-validator.js';
import { waitFor } from '../support/wait.js';

const RECEIPTS = 24;

describe.each(['sqlite', 'postgres'] as const)('receipts sent just before a close (%s store)', (dialect) => {
  let env: TestMiner;

  beforeAll(async () => {
    env = await startTestMiner({ dialect, runner: 'process' });
  });
  afterAll(async () => {
    await env?.close();
  });

  const storedReceipts = async (jobUuids: readonly string[]): Promise<number> => {
    const row = (await env.store.db('miner_receipts').whereIn('job_uuid', jobUuids).count({ n: '*' }).first()) as { n: unknown };
    return Number(row.n);
  };

  it('stores every receipt when the socket closes right after the auth and the receipt', async () => {
    const jobUuids: string[] = [];
    const startedAt = Date.now();
    for (let i = 0; i < RECEIPTS; i += 1) {
      // Auth, receipt, close, back to back: the receipt is still queued behind the auth check when the close arrives.
      const client = await TestValidator.connect({ url: env.url, validator: env.validatorA, minerHotkey: env.minerHotkey.ss58 });
      const jobUuid = randomUUID();
      jobUuids.push(jobUuid);
      if (i % 2 === 0) await client.finishedReceipt(jobUuid, '2025-01-02T03:04:05Z', 2_000_000 + i, 1);
      else await client.acceptedReceipt(jobUuid, 30);
      await client.close();
    }
    await waitFor(
      `all ${RECEIPTS} receipts on the miner`,
      async () => ((await storedReceipts(jobUuids)) === RECEIPTS ? true : undefined),
      15_000,
    );
    // Countersigned and on the served pages too (appended just after the row is stored), not only in the table.
    const pages = new Set([receiptPageAt(startedAt), receiptPageAt(Date.now())]);
    const served = async () => {
      let text = '';
      for (const page of pages) text += await (await fetch(`${env.url}/receipts/${page}.jsonl`)).text();
      return text;
    };
    const missing = await waitFor(
      'the receipts on the served pages',
      async () => {
        const text = await served();
        const absent = jobUuids.filter((jobUuid) => !text.includes(jobUuid));
        return absent.length === 0 ? absent : undefined;
      },
      5_000,
    );
    expect(missing).toEqual([]);
  });

  it('stores the last receipts of an authenticated connection that closes at once', async () => {
    const client = await TestValidator.connect({ url: env.url, validator: env.validatorB, minerHotkey: env.minerHotkey.ss58 });
    await client.expect('V0ExecutorManifestRequest');
    const jobUuids = Array.from({ length: RECEIPTS }, () => randomUUID());
    // Sent without waiting for each other, then the close: everything is queued in the session's frame chain.
    await Promise.all(jobUuids.map((jobUuid, i) => client.finishedReceipt(jobUuid, '2025-01-02T03:04:05Z', 1_000_000 + i, 0.5)));
    await client.close();
    await waitFor(
      `all ${RECEIPTS} receipts on the miner`,
      async () => ((await storedReceipts(jobUuids)) === RECEIPTS ? true : undefined),
      15_000,
    );
    const stored = await env.store.db('miner_receipts').whereIn('job_uuid', jobUuids).select('validator_hotkey');
    expect(new Set(stored.map((r: { validator_hotkey: string }) => r.validator_hotkey))).toEqual(new Set([env.validatorB.ss58]));
  });
});
