import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hotkey } from '../../keys/index.js';
import { receiptLine } from '../../protocol/receipt-pages.js';
import { countersignReceipt, createJobStartedReceipt } from '../../protocol/receipts.js';
import { testHotkey } from '../../testkit/scoring.js';
import { checkReceiptLines } from './receipt-lines.js';
import { InThreadVerifier, ReceiptVerifierPool, type ReceiptLineVerifier } from './verifier-pool.js';

// Worker threads load the compiled worker: this test runs the built pool (npm run build first).
const built = fileURLToPath(new URL('../../../dist/validator/receipts/verifier-pool.js', import.meta.url));

let miner: Hotkey;
let validator: Hotkey;
beforeAll(async () => {
  [miner, validator] = (await Promise.all(['//Alice', '//Bob'].map(testHotkey))) as [Hotkey, Hotkey];
});

function lines(n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const receipt = countersignReceipt(
      createJobStartedReceipt(
        { jobUuid: `job-${i}`, minerHotkey: miner.ss58, executorClass: 'always_on.test', isOrganic: true, ttl: 7 },
        validator,
      ),
      miner,
    );
    // Every third line tampered: the verdicts must say which.
    return i % 3 === 2 ? receiptLine({ ...receipt, payload: { ...receipt.payload, ttl: 99 } }) : receiptLine(receipt);
  });
}

describe('ReceiptVerifierPool', () => {
  let pool: ReceiptLineVerifier;

  beforeAll(async () => {
    if (!existsSync(built)) throw new Error('core/dist is missing: run `npm run build` before this test');
    const { ReceiptVerifierPool: BuiltPool } = (await import(built)) as { ReceiptVerifierPool: typeof ReceiptVerifierPool };
    pool = BuiltPool.create(2);
  });
  afterAll(async () => {
    await pool.close();
  });

  it('verifies on two worker threads with the same verdicts, in line order, as the main thread', async () => {
    expect(pool.threads).toBe(2);
    const input = lines(600); // three tasks
    const served = new Set([miner.ss58]);
    const verdicts = await pool.verify(input, served);
    expect(verdicts.map((v) => v.ok)).toEqual(checkReceiptLines(input, served).map((v) => v.ok));
    expect(verdicts.filter((v) => !v.ok)).toHaveLength(200);
    expect(verdicts[2]).toMatchObject({ ok: false, reason: 'bad_validator_signature' });
    expect(verdicts[0]).toMatchObject({ ok: true, receipt: { payload: { job_uuid: 'job-0' } } });
  });

  it('falls back to the main thread when asked for no threads', async () => {
    const inThread = ReceiptVerifierPool.create(0);
    expect(inThread).toBeInstanceOf(InThreadVerifier);
    expect((await inThread.verify(lines(3), new Set([miner.ss58]))).map((v) => v.ok)).toEqual([true, true, false]);
  });
});
