import { Keyring } from '@polkadot/keyring';
import { decodePair } from '@polkadot/keyring/pair/decode';
import type { KeyringPair } from '@polkadot/keyring/types';
import { isHex, u8aToHex } from '@polkadot/util';
import { cryptoWaitReady, keyExtractSuri } from '@polkadot/util-crypto';
import { sr25519Sign } from '@polkadot/wasm-crypto';
import { expandHome } from '../config/load.js';
import { readWalletHotkeyFile, walletHotkeyPath } from '../config/wallet.js';
import { HotkeyLoadError } from './errors.js';
import { cryptoReady, messageBytes, publicKeyFromSs58 } from './verify.js';

export { HotkeyLoadError } from './errors.js';
export { cryptoReady, LruCache, publicKeyFromSs58, verifySignature, verifySignatureSync } from './verify.js';

/** Where a hotkey comes from (the `hotkey` config section resolves to one of these). */
export type HotkeySource =
  | { uri: string } // '//Alice', a mnemonic (optionally with //derivation), or a 0x seed
  | { file: string } // path of a bittensor wallet hotkey file
  | { wallet: string; hotkey: string; walletsDir?: string }; // <walletsDir>/<wallet>/hotkeys/<hotkey>

/** An sr25519 hotkey that can sign. */
export interface Hotkey {
  /** ss58 address, prefix 42 (what bittensor shows). */
  readonly ss58: string;
  readonly publicKey: Uint8Array;
  /** sr25519 signature, `0x`-hex. A string message is signed as its UTF-8 bytes. */
  sign(message: Uint8Array | string): `0x${string}`;
  /** For extrinsic signing with @polkadot/api. */
  readonly pair: KeyringPair;
}

const SS58_PREFIX = 42;

/**
 * Signs through @polkadot/wasm-crypto: `KeyringPair.sign` runs sr25519 in pure JS (~400
 * signatures/s on a small machine), and a validator signs three receipts per job, thousands per
 * batch; wasm does ~7,000/s. Needs `cryptoReady()` to have resolved (`loadHotkey` awaits it).
 */
function wasmSigner(pair: KeyringPair): ((message: Uint8Array) => Uint8Array) | null {
  try {
    const { secretKey, publicKey } = decodePair(undefined, pair.encodePkcs8(), ['none']);
    if (secretKey.length !== 64 || Buffer.compare(Buffer.from(publicKey), Buffer.from(pair.publicKey)) !== 0) return null;
    return (message) => sr25519Sign(publicKey, secretKey, message);
  } catch {
    // A locked (encrypted) pair exposes no secret: its own signer still works.
    return null;
  }
}

function hotkeyFromPair(pair: KeyringPair): Hotkey {
  const sign = wasmSigner(pair) ?? ((message: Uint8Array) => pair.sign(message));
  return {
    ss58: pair.address,
    publicKey: pair.publicKey,
    // messageBytes, not pair.sign(string): polkadot would hex-decode a string that looks like 0x...,
    // which would make the same text sign differently here and in verifySignature.
    sign: (message) => u8aToHex(sign(messageBytes(message))),
    pair,
  };
}

function keyring(): Keyring {
  return new Keyring({ type: 'sr25519', ss58Format: SS58_PREFIX });
}

const MNEMONIC_WORD_COUNTS = new Set([12, 15, 18, 21, 24]);

function fromUri(uri: string, what: string): KeyringPair {
  const suri = uri.trim();
  try {
    // Polkadot would take any other text of <= 32 characters as a raw, space-padded seed: a typo in
    // a mnemonic would silently give a different key. Accept only what bittensor accepts.
    if (!suri.startsWith('//')) {
      const { phrase } = keyExtractSuri(suri);
      if (!isHex(phrase, 256) && !MNEMONIC_WORD_COUNTS.has(phrase.split(' ').length)) {
        throw new HotkeyLoadError('expected //Name, a 12-24 word mnemonic, or 0x and 64 hex digits');
      }
    }
    return keyring().addFromUri(suri);
  } catch (error) {
    // Never echo the URI: it is a secret.
    throw new HotkeyLoadError(`${what} is not a valid dev URI, mnemonic or 0x seed: ${(error as Error).message}`, { cause: error });
  }
}

async function fromWalletFile(path: string): Promise<KeyringPair> {
  let file;
  try {
    file = await readWalletHotkeyFile(path);
  } catch (error) {
    throw new HotkeyLoadError((error as Error).message, { cause: error });
  }
  // The seed is what the key was made from; the phrase (when present) gives the same key.
  const pair = file.secretSeed
    ? fromUri(file.secretSeed, `secretSeed in ${path}`)
    : fromUri(file.secretPhrase as string, `secretPhrase in ${path}`);
  const declared = publicKeyFromSs58(file.ss58Address);
  if (declared === null || Buffer.compare(declared, pair.publicKey) !== 0) {
    throw new HotkeyLoadError(
      `Hotkey file ${path}: its secret gives ${pair.address}, but the file says ss58Address ${file.ss58Address}; the file is corrupt or was edited`,
    );
  }
  return pair;
}

/** Loads an sr25519 hotkey. Throws `HotkeyLoadError` (code HORDE_HOTKEY_LOAD_FAILED) saying what is wrong. */
export async function loadHotkey(source: HotkeySource): Promise<Hotkey> {
  await Promise.all([cryptoWaitReady(), cryptoReady()]);
  if ('uri' in source) {
    if (!source.uri.trim()) throw new HotkeyLoadError('hotkey uri is empty');
    return hotkeyFromPair(fromUri(source.uri, 'hotkey uri'));
  }
  if ('file' in source) return hotkeyFromPair(await fromWalletFile(expandHome(source.file)));
  return hotkeyFromPair(await fromWalletFile(walletHotkeyPath(source)));
}
