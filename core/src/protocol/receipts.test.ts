import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { cryptoWaitReady, signatureVerify } from '@polkadot/util-crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { JobFinishedReceiptPayload, Receipt, ReceiptPayload } from '../contracts/receipt.js';
import { loadHotkey, type Hotkey } from '../keys/index.js';
import goldens from './__fixtures__/receipt-blobs.json' with { type: 'json' };
import { receiptPayloadSchema, receiptSchema } from './receipt-schemas.js';
import {
  countersignReceipt,
  createJobAcceptedReceipt,
  createJobFinishedReceipt,
  createJobStartedReceipt,
  formatScore,
  receiptBlob,
  signReceipt,
  verifyReceipt,
  verifyReceiptSignature,
} from './receipts.js';

let validator: Hotkey; // //Alice, the validator_hotkey of every golden payload
let miner: Hotkey; // //Bob, the miner_hotkey

beforeAll(async () => {
  await cryptoWaitReady();
  validator = await loadHotkey({ uri: '//Alice' });
  miner = await loadHotkey({ uri: '//Bob' });
});

describe('receiptBlob', () => {
  // Each blob is Python's json.dumps(Model.model_validate(payload).model_dump(mode="json"), sort_keys=True).
  it.each(goldens.map((g) => [g.name, g] as const))('is byte-identical to Python: %s', (_name, golden) => {
    const parsed = receiptPayloadSchema.parse(golden.payload);
    expect(receiptBlob(parsed)).toBe(golden.blob);
    // Also straight from the wire object, extra fields and all.
    expect(receiptBlob(golden.payload as unknown as ReceiptPayload)).toBe(golden.blob);
  });

  it('refuses a payload Python could not parse', () => {
    const bad = { ...goldens[0]!.payload, timestamp: 'yesterday' } as unknown as ReceiptPayload;
    expect(() => receiptBlob(bad)).toThrow(/not a datetime/);
  });
});

describe('signing and countersigning', () => {
  it('validator signs, miner countersigns, both verify, also with util-crypto', async () => {
    for (const golden of goldens) {
      const payload = receiptPayloadSchema.parse(golden.payload);
      const signed = signReceipt(payload, validator);
      expect(signed.miner_signature).toBeNull();
      expect(await verifyReceipt(signed, { requireMiner: false })).toEqual({ ok: true });
      const missing = await verifyReceipt(signed);
      expect(missing.ok || missing.error.code).toBe('MISSING_MINER_SIGNATURE');

      const both = countersignReceipt(signed, miner);
      expect(await verifyReceipt(both)).toEqual({ ok: true });
      // The signatures are over the Python blob bytes, checked by the default polkadot path too.
      const blob = new TextEncoder().encode(golden.blob);
      expect(signatureVerify(blob, both.validator_signature, validator.ss58).isValid).toBe(true);
      expect(signatureVerify(blob, both.miner_signature!, miner.ss58).isValid).toBe(true);
      // And the wire form parses back into the same receipt.
      expect(receiptSchema.parse(JSON.parse(JSON.stringify(both)))).toEqual(both);
    }
  });

  it('verifies a receipt signed by another implementation over the blob bytes', async () => {
    const pair = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
    const golden = goldens.find((g) => g.name.includes('+00:00'))!;
    // The wire text says +00:00; Python re-dumps it as Z before signing, and so must we.
    expect(golden.payload.timestamp).toContain('+00:00');
    const signature = u8aToHex(pair.sign(new TextEncoder().encode(golden.blob)));
    const payload = receiptPayloadSchema.parse(golden.payload);
    expect(await verifyReceiptSignature(payload, signature, 'validator')).toBe(true);
  });

  it('detects tampering, a wrong signer and swapped signatures', async () => {
    const receipt = countersignReceipt(
      createJobFinishedReceipt(
        {
          jobUuid: 'j1',
          minerHotkey: miner.ss58,
          timeStarted: '2025-01-02T03:04:05.123456Z',
          timeTookUs: 1_500_000,
          score: 1.5,
          blockNumbers: [7],
        },
        validator,
      ),
      miner,
    );
    const tampered: Receipt = { ...receipt, payload: { ...receipt.payload, score_str: '9.000000' } as JobFinishedReceiptPayload };
    const r1 = await verifyReceipt(tampered);
    expect(r1.ok || r1.error.code).toBe('BAD_VALIDATOR_SIGNATURE');
    const swapped = { ...receipt, miner_signature: receipt.validator_signature };
    const r2 = await verifyReceipt(swapped);
    expect(r2.ok || r2.error.code).toBe('BAD_MINER_SIGNATURE');
    const garbage = await verifyReceipt({ ...receipt, validator_signature: 'nope' });
    expect(garbage.ok || garbage.error.code).toBe('BAD_VALIDATOR_SIGNATURE');
    expect(() => signReceipt({ ...receipt.payload, validator_hotkey: miner.ss58 }, validator)).toThrow(/signed by/);
    expect(() => countersignReceipt(receipt, validator)).toThrow(/countersigned by/);
  });
});

describe('receipt builders', () => {
  it('build the three payloads with the wire fields and a pydantic timestamp', () => {
    const started = createJobStartedReceipt(
      { jobUuid: 'j', minerHotkey: miner.ss58, executorClass: 'always_on.llm.a6000', isOrganic: true, ttl: 7 },
      validator,
    );
    expect(started.payload).toMatchObject({
      receipt_type: 'JobStartedReceipt',
      validator_hotkey: validator.ss58,
      is_organic: true,
      ttl: 7,
    });
    expect(started.payload.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$/);
    const accepted = createJobAcceptedReceipt(
      { jobUuid: 'j', minerHotkey: miner.ss58, timeAccepted: started.payload.timestamp, ttl: 300, timestamp: '2025-01-01T00:00:00Z' },
      validator,
    );
    expect(accepted.payload).toMatchObject({ receipt_type: 'JobAcceptedReceipt', timestamp: '2025-01-01T00:00:00Z', ttl: 300 });
    const finished = createJobFinishedReceipt(
      { jobUuid: 'j', minerHotkey: miner.ss58, timeStarted: started.payload.timestamp, timeTookUs: 12.6, score: 0 },
      validator,
    );
    expect(finished.payload).toMatchObject({
      receipt_type: 'JobFinishedReceipt',
      time_took_us: 13,
      score_str: '0.000000',
      block_numbers: [],
    });
  });

  it('formats score_str as Python f"{x:.6f}"', () => {
    expect(formatScore(59.4691354)).toBe('59.469135');
    expect(formatScore(1 / 3)).toBe('0.333333');
    expect(formatScore(2.0000005)).toBe('2.000001');
    // Exact halves (multiples of 1/128) round half to even, as Python does: printed by Python 3.11.
    expect(formatScore(0.0078125)).toBe('0.007812');
    expect(formatScore(-0.0078125)).toBe('-0.007812');
    expect(formatScore(1.0234375)).toBe('1.023438');
    expect(formatScore(12.3046875)).toBe('12.304688');
    expect(() => formatScore(Number.NaN)).toThrow();
  });
});
