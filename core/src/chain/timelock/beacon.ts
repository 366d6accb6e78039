import { bls12_381 } from '@noble/curves/bls12-381';
import { createHash } from 'node:crypto';

import { hexToU8a, u8aToHex } from '@polkadot/util';

import { TimelockError } from './errors.js';

/**
 * A drand-style unchained beacon with signatures on G1 ("bls-unchained-g1-rfc9380"): the pulse of
 * round `n` is the BLS signature of `sha256(u64_be(n))`, hashed to G1 with `QUICKNET_DST`. Its
 * public key lives in G2. Quicknet is one; the LocalChain runs its own with a key of its own.
 */
export interface BeaconInfo {
  /** Compressed G2 public key (96 bytes, hex without 0x). */
  readonly publicKey: string;
  /** Unix seconds of round 1's emission minus one period: round `n` is emitted at `genesis + (n-1)·period`. */
  readonly genesisTime: number;
  /** Seconds between rounds. */
  readonly period: number;
}

/** One pulse: a round and its compressed G1 signature (hex without 0x). */
export interface BeaconPulse {
  readonly round: number;
  readonly signature: string;
}

/** The domain separation tag of drand quicknet's G1 hash (RFC 9380, `…_NUL_` scheme). */
export const QUICKNET_DST = 'BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_';

/**
 * drand quicknet as subtensor's `pallets/drand` and bittensor-drand pin it: public key, genesis
 * (2023-08-23T15:09:27Z), 3 s period and chain hash (drand's `/info` for this chain).
 */
export const QUICKNET: BeaconInfo & { readonly chainHash: string } = {
  publicKey:
    '83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a',
  genesisTime: 1692803367,
  period: 3,
  chainHash: '52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971',
};

function u64Be(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TimelockError('INVALID_INPUT', `round must be a non-negative integer, got ${value}`);
  }
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value), false);
  return out;
}

/** The message a beacon signs for `round` and the timelock identity of that round: `sha256(u64_be(round))`. */
export function roundMessage(round: number): Uint8Array {
  return new Uint8Array(createHash('sha256').update(u64Be(round)).digest());
}

/** `Q_id`: the identity's point in G1 (what the round's signature is a multiple of). */
export function roundIdentityPoint(round: number) {
  return bls12_381.G1.hashToCurve(roundMessage(round), { DST: QUICKNET_DST }) as unknown as InstanceType<
    typeof bls12_381.G1.ProjectivePoint
  >;
}

/** The last round emitted at or before `unixSeconds` (0 before genesis), as drand's `CurrentRound`. */
export function roundAt(beacon: BeaconInfo, unixSeconds: number): number {
  if (unixSeconds < beacon.genesisTime) return 0;
  return Math.floor((unixSeconds - beacon.genesisTime) / beacon.period) + 1;
}

/** Unix seconds at which `round` is emitted. */
export function timeOfRound(beacon: BeaconInfo, round: number): number {
  if (round < 1) return beacon.genesisTime;
  return beacon.genesisTime + (round - 1) * beacon.period;
}

/** Decodes a compressed G1 signature; a clear error for anything else. */
export function decodeSignature(signature: string | Uint8Array) {
  try {
    const bytes = typeof signature === 'string' ? hexToU8a(signature.startsWith('0x') ? signature : `0x${signature}`) : signature;
    if (bytes.length !== 48) throw new TimelockError('MALFORMED_SIGNATURE', `expected 48 bytes, got ${bytes.length}`);
    return bls12_381.G1.ProjectivePoint.fromHex(bytes);
  } catch (cause) {
    throw new TimelockError('MALFORMED_SIGNATURE', `pulse signature is not a compressed G1 point: ${(cause as Error).message}`, { cause });
  }
}

/** True when `pulse` is the beacon's signature for its round (e(sig, g2) = e(Q_id, pk)). */
export function verifyPulse(beacon: BeaconInfo, pulse: BeaconPulse): boolean {
  const sig = decodeSignature(pulse.signature);
  const pk = bls12_381.G2.ProjectivePoint.fromHex(beacon.publicKey);
  const lhs = bls12_381.pairing(sig, bls12_381.G2.ProjectivePoint.BASE);
  const rhs = bls12_381.pairing(roundIdentityPoint(pulse.round), pk);
  return bls12_381.fields.Fp12.eql(lhs, rhs);
}

/**
 * A beacon whose secret key we hold: the LocalChain's stand-in for quicknet, with the same scheme
 * and round arithmetic, so what horde encrypts for it the chain can open when its clock gets there.
 */
export class LocalBeacon {
  readonly info: BeaconInfo;
  readonly #secretKey: Uint8Array;

  constructor(secretKey: Uint8Array, genesisTime: number, period = QUICKNET.period) {
    if (secretKey.length !== 32) throw new TimelockError('INVALID_INPUT', 'a beacon secret key is 32 bytes');
    this.#secretKey = secretKey;
    const pk = bls12_381.G2.ProjectivePoint.BASE.multiply(bls12_381.G1.normPrivateKeyToScalar(secretKey));
    this.info = { publicKey: pk.toHex(true), genesisTime, period };
  }

  /** The pulse of `round`. */
  pulse(round: number): BeaconPulse {
    const scalar = bls12_381.G1.normPrivateKeyToScalar(this.#secretKey);
    const sig = roundIdentityPoint(round).multiply(scalar);
    return { round, signature: u8aToHex(sig.toRawBytes(true), -1, false) };
  }
}
