import { encodeAddress } from '@polkadot/util-crypto';
import type { Hotkey } from '../keys/index.js';
import { verifySignature } from '../keys/verify.js';
import type { V0AuthenticationRequest } from './facilitator-messages.js';

/**
 * Validator → facilitator authentication (`V0AuthenticationRequest`): the validator signs its own
 * 32 public-key bytes. There is no nonce or timestamp in the original ("a very temporary measure"),
 * so this proves key ownership only; the facilitator must still check the hotkey is an active
 * validator.
 */
export function createFacilitatorAuth(hotkey: Hotkey): V0AuthenticationRequest {
  return {
    message_type: 'V0AuthenticationRequest',
    public_key: Buffer.from(hotkey.publicKey).toString('hex'),
    signature: hotkey.sign(hotkey.publicKey),
  };
}

/** The validator's ss58 (prefix 42) when the signature holds, else null. */
export async function verifyFacilitatorAuth(msg: V0AuthenticationRequest): Promise<string | null> {
  const hex = msg.public_key.replace(/^0x/, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return null;
  const publicKey = Buffer.from(hex, 'hex');
  const ss58 = encodeAddress(publicKey, 42);
  return (await verifySignature(publicKey, msg.signature, ss58)) ? ss58 : null;
}
