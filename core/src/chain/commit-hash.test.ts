import { TypeRegistry } from '@polkadot/types';
import { u8aToHex } from '@polkadot/util';
import { blake2AsU8a } from '@polkadot/util-crypto';
import { describe, expect, it } from 'vitest';
import { encodeWeightCommitPreimage, randomSalt, weightCommitHash } from './commit-hash.js';

const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
const ALICE_PUBLIC = '0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d';

describe('weightCommitHash', () => {
  it('matches the bittensor SDK generate_weight_hash for the same inputs', () => {
    // Expected values computed with the SDK's algorithm (hashlib.blake2b(digest_size=32) over the
    // SCALE bytes: public key, u16 LE netuid, Vec<u16> uids, Vec<u16> values, Vec<u16> salt, u64 LE).
    expect(
      weightCommitHash({
        hotkey: ALICE,
        netuidIndex: 12,
        uids: [0, 1, 5],
        values: [65535, 32768, 1],
        salt: [1, 2, 3, 4, 5, 6, 7, 8],
        versionKey: 2000,
      }),
    ).toBe('0x2aa67a6769bc94a1e4c6bbfa1a1fe5c3bf4cf6815ee812ed766dccb7d0bd0f6e');
    expect(weightCommitHash({ hotkey: ALICE, netuidIndex: 1, uids: [], values: [], salt: [], versionKey: 0 })).toBe(
      '0x2a56c4382a3f4156ef7c55b5673ac7cbcdd5c7db4b6e31a1da095ececd9d50e9',
    );
  });

  it('hashes the same bytes @polkadot/types encodes for the runtime tuple', () => {
    const registry = new TypeRegistry();
    const uids = Array.from({ length: 70 }, (_, i) => i); // > 63 entries: two-byte compact length
    const values = uids.map((i) => (i * 937) % 65536);
    const salt = [65535, 0, 7];
    const tuple = registry.createType('(AccountId32, u16, Vec<u16>, Vec<u16>, Vec<u16>, u64)', [
      ALICE_PUBLIC,
      4096 + 12,
      uids,
      values,
      salt,
      '18446744073709551615',
    ]);
    const preimage = { hotkey: ALICE, netuidIndex: 4096 + 12, uids, values, salt, versionKey: 18446744073709551615n };
    expect(u8aToHex(encodeWeightCommitPreimage(preimage))).toBe(u8aToHex(tuple.toU8a()));
    expect(weightCommitHash(preimage)).toBe(u8aToHex(blake2AsU8a(tuple.toU8a(), 256)));
  });

  it('accepts the public key instead of the address', () => {
    const bytes = new Uint8Array(Buffer.from(ALICE_PUBLIC.slice(2), 'hex'));
    const base = { netuidIndex: 3, uids: [1], values: [9], salt: [4], versionKey: 1 };
    expect(weightCommitHash({ ...base, hotkey: bytes })).toBe(weightCommitHash({ ...base, hotkey: ALICE }));
  });

  it('refuses values that are not u16', () => {
    expect(() => weightCommitHash({ hotkey: ALICE, netuidIndex: 1, uids: [70000], values: [1], salt: [], versionKey: 0 })).toThrow(/u16/);
  });

  it('draws 8 u16 salt values', () => {
    const salt = randomSalt();
    expect(salt).toHaveLength(8);
    for (const s of salt) expect(Number.isInteger(s) && s >= 0 && s <= 65535).toBe(true);
  });
});
