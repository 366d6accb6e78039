import { describe, expect, it } from 'vitest';
import { loadHotkey } from '../keys/index.js';
import { encodeMessage, parseValidatorToFacilitator } from './codec.js';
import { createFacilitatorAuth, verifyFacilitatorAuth } from './facilitator-auth.js';
import type { V0AuthenticationRequest } from './facilitator-messages.js';

describe('validator → facilitator authentication', () => {
  it('signs the public key bytes and yields the ss58 of the signer', async () => {
    const alice = await loadHotkey({ uri: '//Alice' });
    const msg = createFacilitatorAuth(alice);
    expect(msg.public_key).toBe('d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d');
    const parsed = parseValidatorToFacilitator(encodeMessage(msg));
    if (!parsed.ok) throw parsed.error;
    expect(await verifyFacilitatorAuth(parsed.message as V0AuthenticationRequest)).toBe(alice.ss58);
  });

  it('refuses a signature by another key or over other bytes', async () => {
    const [alice, eve] = await Promise.all([loadHotkey({ uri: '//Alice' }), loadHotkey({ uri: '//Eve' })]);
    const msg = createFacilitatorAuth(alice);
    expect(await verifyFacilitatorAuth({ ...msg, signature: eve.sign(alice.publicKey) })).toBeNull();
    expect(await verifyFacilitatorAuth({ ...msg, signature: alice.sign('hello') })).toBeNull();
    expect(await verifyFacilitatorAuth({ ...msg, public_key: 'zz' })).toBeNull();
  });
});
