import { describe, expect, it } from 'vitest';
import { loadHotkey, verifySignature } from '../keys/index.js';
import { withWasmSigning } from './fast-signer.js';

describe('withWasmSigning', () => {
  it('signs so that the usual verifier accepts the signature for the same hotkey, and no other', async () => {
    const hotkey = await loadHotkey({ uri: '//FastSigner' });
    const other = await loadHotkey({ uri: '//Other' });
    const fast = await withWasmSigning(hotkey);
    expect(fast.ss58).toBe(hotkey.ss58);
    const blob = '{"receipt_type": "JobStartedReceipt", "ttl": 7}';
    const signature = fast.sign(blob);
    expect(signature).toMatch(/^0x[0-9a-f]{128}$/);
    expect(await verifySignature(blob, signature, hotkey.ss58)).toBe(true);
    expect(await verifySignature(blob, signature, other.ss58)).toBe(false);
    expect(await verifySignature(`${blob} `, signature, hotkey.ss58)).toBe(false);
  });
});
