import { compactFromU8a, compactToU8a, u8aConcat } from '@polkadot/util';
import { decodeAddress } from '@polkadot/util-crypto';

import { TimelockError } from './errors.js';

/**
 * What a v4 timelocked weight commit hides: subtensor's SCALE `WeightsTlockPayload`
 * (pallets/subtensor/src/coinbase/reveal_commits.rs), `{ hotkey: Vec<u8>, uids: Vec<u16>,
 * values: Vec<u16>, version_key: u64 }`. The chain reveals it only if `hotkey` decodes to the
 * committing account, so a copied ciphertext cannot be replayed under another hotkey.
 */
export interface WeightsTlockPayload {
  /** 32-byte public key (or ss58 address) of the committing hotkey. */
  readonly hotkey: Uint8Array | string;
  readonly uids: readonly number[];
  readonly values: readonly number[];
  readonly versionKey: bigint | number;
}

function u16(value: number, what: string): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new TimelockError('INVALID_INPUT', `${what} must be a u16 (0..65535), got ${value}`);
  }
  return new Uint8Array([value & 0xff, value >> 8]);
}

export function encodeWeightsTlockPayload(payload: WeightsTlockPayload): Uint8Array {
  if (payload.uids.length !== payload.values.length) {
    throw new TimelockError('INVALID_INPUT', `uids (${payload.uids.length}) and values (${payload.values.length}) differ in length`);
  }
  const hotkey = typeof payload.hotkey === 'string' ? decodeAddress(payload.hotkey) : payload.hotkey;
  const version = BigInt(payload.versionKey);
  if (version < 0n || version > 0xffff_ffff_ffff_ffffn)
    throw new TimelockError('INVALID_INPUT', `version key must be a u64, got ${version}`);
  const versionBytes = new Uint8Array(8);
  new DataView(versionBytes.buffer).setBigUint64(0, version, true);
  return u8aConcat(
    compactToU8a(hotkey.length),
    hotkey,
    compactToU8a(payload.uids.length),
    ...payload.uids.map((v) => u16(v, 'uid')),
    compactToU8a(payload.values.length),
    ...payload.values.map((v) => u16(v, 'weight')),
    versionBytes,
  );
}

/** Decodes the payload the way the chain's reveal does; anything else is a MALFORMED_PAYLOAD. */
export function decodeWeightsTlockPayload(bytes: Uint8Array): WeightsTlockPayload & { hotkey: Uint8Array } {
  let offset = 0;
  const need = (n: number, what: string): void => {
    if (offset + n > bytes.length) throw new TimelockError('MALFORMED_PAYLOAD', `payload ends inside ${what}`);
  };
  const compact = (what: string): number => {
    need(1, what);
    const [read, value] = compactFromU8a(bytes.subarray(offset));
    offset += read;
    if (value.gtn(bytes.length)) throw new TimelockError('MALFORMED_PAYLOAD', `${what} length ${value.toString()} exceeds the payload`);
    return value.toNumber();
  };
  const u16s = (what: string): number[] => {
    const count = compact(`${what}'s length`);
    need(2 * count, what);
    const out: number[] = [];
    for (let i = 0; i < count; i++) out.push(bytes[offset + 2 * i]! | (bytes[offset + 2 * i + 1]! << 8));
    offset += 2 * count;
    return out;
  };
  const hotkeyLength = compact("hotkey's length");
  need(hotkeyLength, 'hotkey');
  const hotkey = bytes.slice(offset, offset + hotkeyLength);
  offset += hotkeyLength;
  const uids = u16s('uids');
  const values = u16s('values');
  need(8, 'version_key');
  const versionKey = new DataView(bytes.buffer, bytes.byteOffset + offset, 8).getBigUint64(0, true);
  offset += 8;
  if (offset !== bytes.length) throw new TimelockError('MALFORMED_PAYLOAD', `${bytes.length - offset} bytes left over after version_key`);
  return { hotkey, uids, values, versionKey };
}
