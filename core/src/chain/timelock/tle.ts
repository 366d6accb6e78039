import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

import { bls12_381 } from '@noble/curves/bls12-381';

import { decodeSignature, roundIdentityPoint, type BeaconInfo, type BeaconPulse } from './beacon.js';
import { AES_GCM_CIPHER_SUITE, decodeTimelockCiphertext, encodeTimelockCiphertext, type TimelockCiphertext } from './ciphertext.js';
import { TimelockError } from './errors.js';
import { arkworksPairing, serializeGt } from './gt.js';

/**
 * Timelock encryption as the chain's `tle::tlock::{tle, tld}` with `TinyBLS381` and
 * `AESGCMStreamCipherProvider` do it: Boneh–Franklin FullIdent IBE (on the round's identity, with
 * the beacon key as master public key) hides a 32-byte key, AES-256-GCM under that key hides the
 * message. The round's beacon signature is the IBE secret for that identity, so anyone holding the
 * pulse of the round — the chain, once drand emits it — can decrypt; nobody can before.
 */

const Fr = bls12_381.fields.Fr;
const AES_NONCE_BYTES = 12;
const AES_TAG_BYTES = 16;

function sha256(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

function xor32(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** arkworks `Fr::serialize_compressed`: 32 bytes little-endian. */
function frLe(value: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let v = value;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** `h3`: `Fr::from_be_bytes_mod_order(sha256(a ‖ b))`. */
function h3(a: Uint8Array, b: Uint8Array): bigint {
  const hash = sha256(a, b);
  let value = 0n;
  for (const byte of hash) value = (value << 8n) | BigInt(byte);
  return Fr.create(value);
}

function g2Base(scalar: bigint) {
  // r = 0 has probability 2^-255; arkworks would give the identity, noble refuses to multiply by 0.
  return scalar === 0n ? bls12_381.G2.ProjectivePoint.ZERO : bls12_381.G2.ProjectivePoint.BASE.multiply(scalar);
}

/** The randomness of one encryption; tests fix it to reproduce a ciphertext byte for byte. */
export interface TimelockRandomness {
  /** The 32-byte key AES uses and IBE hides (`secret_key` / `esk` in the Rust). */
  readonly key: Uint8Array;
  /** The IBE scalar `t` (`E::Scalar::rand`), sigma = sha256(t as 32 LE bytes). */
  readonly t: bigint;
  /** The AES-GCM nonce. */
  readonly nonce: Uint8Array;
}

function freshRandomness(): TimelockRandomness {
  return {
    key: new Uint8Array(randomBytes(32)),
    t: Fr.create(BigInt(`0x${randomBytes(64).toString('hex')}`)),
    nonce: new Uint8Array(randomBytes(AES_NONCE_BYTES)),
  };
}

/** Encrypts `message` so that the beacon's pulse of `round` opens it; returns the chain's bytes. */
export function timelockEncrypt(
  beacon: Pick<BeaconInfo, 'publicKey'>,
  round: number,
  message: Uint8Array,
  randomness: TimelockRandomness = freshRandomness(),
): Uint8Array {
  const { key, t, nonce } = randomness;
  if (key.length !== 32) throw new TimelockError('INVALID_INPUT', 'the timelock key is 32 bytes');
  if (nonce.length !== AES_NONCE_BYTES) throw new TimelockError('INVALID_INPUT', 'the AES-GCM nonce is 12 bytes');
  const pPub = bls12_381.G2.ProjectivePoint.fromHex(beacon.publicKey);
  const sigma = sha256(frLe(Fr.create(t)));
  const r = h3(sigma, key);
  if (r === 0n) throw new TimelockError('INVALID_INPUT', 'this randomness derives r = 0; draw another');
  const u = g2Base(r);
  const gId = arkworksPairing(roundIdentityPoint(round), pPub.multiply(r));
  const v = xor32(sigma, sha256(serializeGt(gId)));
  const w = xor32(key, sha256(sigma));

  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const aesCiphertext = new Uint8Array(Buffer.concat([cipher.update(message), cipher.final(), cipher.getAuthTag()]));
  return encodeTimelockCiphertext({
    u: u.toRawBytes(true),
    v,
    w,
    aesCiphertext,
    aesNonce: nonce,
    cipherSuite: AES_GCM_CIPHER_SUITE,
  });
}

function ibeDecrypt(ct: TimelockCiphertext, signature: BeaconPulse['signature'] | Uint8Array): Uint8Array {
  if (ct.v.length !== 32 || ct.w.length !== 32) {
    throw new TimelockError('MALFORMED_CIPHERTEXT', `IBE header fields must be 32 bytes (v: ${ct.v.length}, w: ${ct.w.length})`);
  }
  let u;
  try {
    u = bls12_381.G2.ProjectivePoint.fromHex(ct.u);
  } catch (cause) {
    throw new TimelockError('MALFORMED_CIPHERTEXT', `header.u is not a G2 point: ${(cause as Error).message}`, { cause });
  }
  const sig = decodeSignature(signature);
  const sigma = xor32(ct.v, sha256(serializeGt(arkworksPairing(sig, u))));
  const key = xor32(ct.w, sha256(sigma));
  // The FO check: U must be r·P for r = H3(sigma, key); otherwise this is not the round's pulse.
  if (!g2Base(h3(sigma, key)).equals(u)) {
    throw new TimelockError('WRONG_SIGNATURE', 'the signature does not open this ciphertext (another round, or a premature pulse)');
  }
  return key;
}

/** Decrypts the chain's ciphertext bytes with the round's pulse signature, as the chain's reveal does. */
export function timelockDecrypt(ciphertext: Uint8Array, signature: string | Uint8Array): Uint8Array {
  const ct = decodeTimelockCiphertext(ciphertext, { exact: false });
  const key = ibeDecrypt(ct, signature);
  if (ct.aesNonce.length !== AES_NONCE_BYTES) {
    throw new TimelockError('MALFORMED_CIPHERTEXT', `AES-GCM nonce must be 12 bytes, got ${ct.aesNonce.length}`);
  }
  if (ct.aesCiphertext.length < AES_TAG_BYTES) {
    throw new TimelockError('MALFORMED_CIPHERTEXT', 'AES-GCM ciphertext is shorter than its tag');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, ct.aesNonce);
    decipher.setAuthTag(ct.aesCiphertext.subarray(ct.aesCiphertext.length - AES_TAG_BYTES));
    const body = ct.aesCiphertext.subarray(0, ct.aesCiphertext.length - AES_TAG_BYTES);
    return new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]));
  } catch (cause) {
    throw new TimelockError('DECRYPTION_FAILED', 'AES-GCM authentication failed', { cause });
  }
}
