import { compactToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { blake2AsU8a, decodeAddress } from '@polkadot/util-crypto';

/** What a CR-v2 weight commit hides until its reveal. */
export interface WeightCommitPreimage {
  /** ss58 address or 32-byte public key of the committing hotkey. */
  readonly hotkey: string | Uint8Array;
  /** `NetUidStorageIndex`: the netuid for mechanism 0 (`mecid * 4096 + netuid` otherwise). */
  readonly netuidIndex: number;
  readonly uids: readonly number[];
  readonly values: readonly number[];
  readonly salt: readonly number[];
  readonly versionKey: number | bigint;
}

function u16Le(value: number, what: string): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new RangeError(`${what} must be a u16 (0..65535), got ${value}`);
  }
  return new Uint8Array([value & 0xff, value >> 8]);
}

function vecU16(values: readonly number[], what: string): Uint8Array {
  return u8aConcat(compactToU8a(values.length), ...values.map((v) => u16Le(v, what)));
}

function u64Le(value: number | bigint): Uint8Array {
  const big = BigInt(value);
  if (big < 0n || big > 0xffff_ffff_ffff_ffffn) throw new RangeError(`version key must be a u64, got ${value}`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, big, true);
  return out;
}

/**
 * SCALE encoding of subtensor's commit preimage, the tuple
 * `(AccountId32, u16 netuid_index, Vec<u16> uids, Vec<u16> values, Vec<u16> salt, u64 version_key)`
 * — the bytes `get_commit_hash` hashes (pallets/subtensor/src/subnets/weights.rs) and the SDK's
 * `generate_weight_hash` builds.
 */
export function encodeWeightCommitPreimage(preimage: WeightCommitPreimage): Uint8Array {
  const account = typeof preimage.hotkey === 'string' ? decodeAddress(preimage.hotkey) : preimage.hotkey;
  if (account.length !== 32) throw new RangeError(`hotkey public key must be 32 bytes, got ${account.length}`);
  return u8aConcat(
    account,
    u16Le(preimage.netuidIndex, 'netuid index'),
    vecU16(preimage.uids, 'uid'),
    vecU16(preimage.values, 'weight value'),
    vecU16(preimage.salt, 'salt'),
    u64Le(preimage.versionKey),
  );
}

/** `BlakeTwo256::hash_of(&(who, netuid_index, uids, values, salt, version_key))` as 0x-hex. */
export function weightCommitHash(preimage: WeightCommitPreimage): `0x${string}` {
  return u8aToHex(blake2AsU8a(encodeWeightCommitPreimage(preimage), 256)) as `0x${string}`;
}

/** A fresh random salt: 8 u16 values, the length the bittensor SDK uses. */
export function randomSalt(length = 8): number[] {
  return Array.from(crypto.getRandomValues(new Uint16Array(length)));
}
