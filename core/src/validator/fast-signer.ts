import { decodePair } from '@polkadot/keyring/pair/decode';
import { u8aToHex } from '@polkadot/util';
import { sr25519Sign, waitReady } from '@polkadot/wasm-crypto';
import type { Hotkey } from '../keys/index.js';
import { messageBytes } from '../keys/verify.js';

/**
 * The same hotkey, signing through @polkadot/wasm-crypto. `KeyringPair.sign` signs in pure JS
 * (~400 signatures/s on this class of machine); a batch signs three receipts per job, thousands
 * per batch, and wasm does ~7,000/s. Falls back to the pair's own signer when the secret cannot be
 * read (a locked pair).
 */
export async function withWasmSigning(hotkey: Hotkey): Promise<Hotkey> {
  await waitReady();
  let secretKey: Uint8Array;
  let publicKey: Uint8Array;
  try {
    const decoded = decodePair(undefined, hotkey.pair.encodePkcs8(), ['none']);
    secretKey = decoded.secretKey;
    publicKey = decoded.publicKey;
  } catch {
    return hotkey;
  }
  if (secretKey.length !== 64 || Buffer.compare(Buffer.from(publicKey), Buffer.from(hotkey.publicKey)) !== 0) return hotkey;
  return {
    ss58: hotkey.ss58,
    publicKey: hotkey.publicKey,
    pair: hotkey.pair,
    sign: (message) => u8aToHex(sr25519Sign(publicKey, secretKey, messageBytes(message))),
  };
}
