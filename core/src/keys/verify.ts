import { RistrettoPoint } from '@noble/curves/ed25519';
import { sr25519_verify } from '@polkadot-labs/schnorrkel-wasm';
import { waitReady } from '@polkadot/wasm-crypto';
import { decodeAddress } from '@polkadot/util-crypto';
import { CryptoNotReadyError } from './errors.js';

/**
 * sr25519 verification in WebAssembly. @polkadot/util-crypto 14 verifies with pure-JS code (~390/s
 * on a 2-core VM); @polkadot/wasm-crypto's schnorrkel build ~3,100/s; @polkadot-labs/schnorrkel-wasm
 * (the same schnorrkel crate, a newer build) ~6,100/s, which is what a miner checking every auth and
 * receipt and a validator checking receipt pages want. That build panics (a wasm trap that prints
 * to stderr and leaks its arguments) on a malformed key or signature instead of answering false, so
 * nothing malformed reaches it: signatures are checked for schnorrkel's marker bit and a canonical
 * scalar, public keys for being a Ristretto point (once per key, cached).
 */

let readyPromise: Promise<void> | null = null;
let ready = false;

/** Loads the wasm module once; every verify waits for it. */
export function cryptoReady(): Promise<void> {
  readyPromise ??= waitReady().then((ok) => {
    if (!ok) throw new CryptoNotReadyError('@polkadot/wasm-crypto failed to initialise');
    ready = true;
  });
  return readyPromise;
}

/** Bounded least-recently-used map (insertion order of a Map is the recency order). */
export class LruCache<K, V> {
  private readonly map = new Map<K, V>();

  constructor(readonly capacity: number) {
    if (!(capacity > 0)) throw new RangeError('LruCache capacity must be positive');
  }

  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.capacity) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
  }

  get size(): number {
    return this.map.size;
  }
}

// ss58 decoding hashes the address (blake2b checksum); hotkeys repeat, so keep the results.
const publicKeys = new LruCache<string, Uint8Array | null>(4096);

/** The 32-byte public key of an ss58 address (any network prefix), or null when it is not one. */
export function publicKeyFromSs58(ss58: string): Uint8Array | null {
  const cached = publicKeys.get(ss58);
  if (cached !== undefined) return cached;
  let key: Uint8Array | null = null;
  // decodeAddress also takes raw hex keys; an address must be ss58.
  if (!ss58.startsWith('0x')) {
    try {
      const decoded = decodeAddress(ss58);
      key = decoded.length === 32 ? decoded : null;
    } catch {
      key = null;
    }
  }
  publicKeys.set(ss58, key);
  return key;
}

const SIGNATURE_HEX = /^(?:0x)?([0-9a-fA-F]{128})$/;

/** Bytes of a hex signature (`0x` optional, as Python's Keypair.verify accepts); null if malformed. */
export function signatureBytes(signature: string | Uint8Array): Uint8Array | null {
  if (typeof signature !== 'string') return signature.length === 64 ? signature : null;
  const m = SIGNATURE_HEX.exec(signature);
  return m ? Buffer.from(m[1] as string, 'hex') : null;
}

/** Messages given as strings are signed and verified as their UTF-8 bytes (no hex decoding). */
export function messageBytes(message: Uint8Array | string): Uint8Array {
  return typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
}

const BYTES_OPEN = Buffer.from('<Bytes>');
const BYTES_CLOSE = Buffer.from('</Bytes>');

/**
 * Verifies after `cryptoReady()` has resolved (throws otherwise). Like bittensor's Keypair.verify,
 * a signature over `<Bytes>message</Bytes>` (what browser wallets sign) is accepted too; that
 * second attempt only runs when the first fails.
 */
export function verifySignatureSync(message: Uint8Array | string, signature: string | Uint8Array, signer: string | Uint8Array): boolean {
  if (!ready) throw new CryptoNotReadyError('call `await cryptoReady()` before verifySignatureSync');
  const publicKey = typeof signer === 'string' ? publicKeyFromSs58(signer) : signer.length === 32 ? signer : null;
  const sig = signatureBytes(signature);
  if (publicKey === null || sig === null) return false;
  if (!isSchnorrkelSignature(sig) || !isRistrettoPoint(publicKey)) return false;
  const msg = messageBytes(message);
  try {
    if (sr25519_verify(publicKey, msg, sig)) return true;
    return sr25519_verify(publicKey, Buffer.concat([BYTES_OPEN, msg, BYTES_CLOSE]), sig);
  } catch {
    return false; // unreachable after the checks above; never let a trap escape
  }
}

/** Order of the Ristretto group: a signature's scalar must be below it. */
const GROUP_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;

/**
 * What schnorrkel's `Signature::from_bytes` accepts: 64 bytes, the schnorrkel marker bit set in the
 * last byte, and a canonical scalar `s` (bytes 32..63, little-endian, marker cleared) below the
 * group order. Anything else is not a valid sr25519 signature.
 */
export function isSchnorrkelSignature(sig: Uint8Array): boolean {
  if (sig.length !== 64 || ((sig[63] as number) & 0x80) === 0) return false;
  let scalar = BigInt((sig[63] as number) & 0x7f);
  for (let i = 62; i >= 32; i--) scalar = (scalar << 8n) | BigInt(sig[i] as number);
  return scalar < GROUP_ORDER;
}

const ristrettoChecks = new LruCache<string, boolean>(4096);

/** Whether 32 bytes are the encoding of a Ristretto point (every sr25519 public key is one). */
export function isRistrettoPoint(publicKey: Uint8Array): boolean {
  const hex = Buffer.from(publicKey).toString('hex');
  let valid = ristrettoChecks.get(hex);
  if (valid === undefined) {
    try {
      RistrettoPoint.fromHex(publicKey);
      valid = true;
    } catch {
      valid = false;
    }
    ristrettoChecks.set(hex, valid);
  }
  return valid;
}

/** sr25519 verification of a `0x`-hex signature by an ss58 hotkey (wasm, cached keys). */
export async function verifySignature(message: Uint8Array | string, signature: string, ss58: string): Promise<boolean> {
  if (!ready) await cryptoReady();
  return verifySignatureSync(message, signature, ss58);
}
