import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { bls12_381 } from '@noble/curves/bls12-381';
import { hexToU8a, u8aToHex } from '@polkadot/util';
import { describe, expect, it } from 'vitest';

import { LocalBeacon, QUICKNET, roundAt, timeOfRound, verifyPulse } from './beacon.js';
import { decodeTimelockCiphertext, encodeTimelockCiphertext } from './ciphertext.js';
import { TimelockError } from './errors.js';
import { decodeWeightsTlockPayload, encodeWeightsTlockPayload } from './payload.js';
import { timelockDecrypt, timelockEncrypt } from './tle.js';

const pulses = JSON.parse(readFileSync(new URL('./__fixtures__/quicknet-pulses.json', import.meta.url), 'utf8')) as {
  pulses: { round: number; signature: string; randomness?: string }[];
  notRound1000: string;
};
const finney = JSON.parse(readFileSync(new URL('./__fixtures__/finney-timelocked-commit.json', import.meta.url), 'utf8')) as {
  call: string;
  revealRound: number;
  commitRevealVersion: number;
};
const [round1000, round2000] = pulses.pulses as [(typeof pulses.pulses)[0], (typeof pulses.pulses)[0]];

function reason(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof TimelockError) return error.reason;
    throw error;
  }
  return undefined;
}

describe('quicknet pulses', () => {
  it('verifies the real pulses against quicknet public key, and rejects a signature for another round', () => {
    expect(verifyPulse(QUICKNET, round1000)).toBe(true);
    expect(verifyPulse(QUICKNET, round2000)).toBe(true);
    expect(verifyPulse(QUICKNET, { round: 1001, signature: round1000.signature })).toBe(false);
    // The pallet's own "bad response" vector is 48 bytes that are not even a curve point.
    expect(reason(() => verifyPulse(QUICKNET, { round: 1000, signature: pulses.notRound1000 }))).toBe('MALFORMED_SIGNATURE');
  });

  it('randomness is sha256 of the signature, as drand publishes it', () => {
    const digest = createHash('sha256')
      .update(hexToU8a(`0x${round1000.signature}`))
      .digest('hex');
    expect(digest).toBe(round1000.randomness);
  });

  it('round arithmetic follows drand: round 1 at genesis, one every 3 s', () => {
    expect(roundAt(QUICKNET, QUICKNET.genesisTime - 1)).toBe(0);
    expect(roundAt(QUICKNET, QUICKNET.genesisTime)).toBe(1);
    expect(roundAt(QUICKNET, QUICKNET.genesisTime + 2)).toBe(1);
    expect(roundAt(QUICKNET, QUICKNET.genesisTime + 3)).toBe(2);
    expect(timeOfRound(QUICKNET, 1000)).toBe(QUICKNET.genesisTime + 999 * 3);
    expect(roundAt(QUICKNET, timeOfRound(QUICKNET, 32340463))).toBe(32340463);
  });

  it('rejects bytes that are not a G1 point with a typed error', () => {
    expect(reason(() => verifyPulse(QUICKNET, { round: 1, signature: 'abcd' }))).toBe('MALFORMED_SIGNATURE');
  });
});

describe('timelock encryption against quicknet', () => {
  const plaintext = new TextEncoder().encode('this is a test');

  it('encrypts for round 1000 and decrypts with the real round-1000 pulse (the Rust crate’s own quicknet test)', () => {
    const ct = timelockEncrypt(QUICKNET, 1000, plaintext);
    expect(timelockDecrypt(ct, round1000.signature)).toEqual(plaintext);
  });

  it('a real pulse of another round does not open it', () => {
    const ct = timelockEncrypt(QUICKNET, 1000, plaintext);
    expect(reason(() => timelockDecrypt(ct, round2000.signature))).toBe('WRONG_SIGNATURE');
    const ct2000 = timelockEncrypt(QUICKNET, 2000, plaintext);
    expect(timelockDecrypt(ct2000, round2000.signature)).toEqual(plaintext);
  });

  it('with fixed randomness the ciphertext is deterministic and its fields are where the chain reads them', () => {
    const randomness = { key: new Uint8Array(32).fill(2), t: 12345n, nonce: new Uint8Array(12).fill(9) };
    const a = timelockEncrypt(QUICKNET, 1000, plaintext, randomness);
    const b = timelockEncrypt(QUICKNET, 1000, plaintext, randomness);
    expect(u8aToHex(a)).toBe(u8aToHex(b));
    const parsed = decodeTimelockCiphertext(a);
    expect(parsed.v.length).toBe(32);
    expect(parsed.w.length).toBe(32);
    expect(parsed.aesNonce).toEqual(randomness.nonce);
    expect(parsed.aesCiphertext.length).toBe(plaintext.length + 16);
    expect(new TextDecoder().decode(parsed.cipherSuite)).toBe('AES_GCM_');
    // 96 + (8+32)*2 + 8 + (8 + 30) + (8 + 12) + (8 + 8)
    expect(a.length).toBe(96 + 80 + 8 + 8 + plaintext.length + 16 + 8 + 12 + 16);
  });

  it('tampering is refused with typed errors, never a crash', () => {
    const ct = timelockEncrypt(QUICKNET, 1000, plaintext);
    const flippedBody = ct.slice();
    flippedBody[96 + 80 + 8 + 8 + 1]! ^= 1; // inside the AES ciphertext
    expect(reason(() => timelockDecrypt(flippedBody, round1000.signature))).toBe('DECRYPTION_FAILED');
    const flippedV = ct.slice();
    flippedV[96 + 8 + 3]! ^= 1;
    expect(reason(() => timelockDecrypt(flippedV, round1000.signature))).toBe('WRONG_SIGNATURE');
    expect(reason(() => timelockDecrypt(ct.subarray(0, 150), round1000.signature))).toBe('MALFORMED_CIPHERTEXT');
    const badPoint = ct.slice();
    badPoint[5]! ^= 0xff;
    expect(reason(() => timelockDecrypt(badPoint, round1000.signature))).toBe('MALFORMED_CIPHERTEXT');
  });
});

describe('the chain’s ciphertext layout (real finney commit)', () => {
  // call = pallet 7, call 0x76 (commit_timelocked_mechanism_weights), netuid u16, mecid u8,
  // commit: BoundedVec<u8> (SCALE compact length), reveal_round u64, commit_reveal_version u16.
  const call = hexToU8a(finney.call);
  const commit = call.subarray(7, 7 + 303);

  it('parses the Rust-made ciphertext and re-encodes it byte for byte', () => {
    expect(call[5]! | (call[6]! << 8)).toBe(0x04bd); // compact(303)
    const parsed = decodeTimelockCiphertext(commit);
    expect(() => bls12_381.G2.ProjectivePoint.fromHex(parsed.u)).not.toThrow();
    expect(parsed.v.length).toBe(32);
    expect(parsed.w.length).toBe(32);
    expect(parsed.aesNonce.length).toBe(12);
    expect(new TextDecoder().decode(parsed.cipherSuite)).toBe('AES_GCM_');
    expect(u8aToHex(encodeTimelockCiphertext(parsed))).toBe(u8aToHex(commit));
    const tail = new DataView(call.buffer, call.byteOffset + 310, 10);
    expect(Number(tail.getBigUint64(0, true))).toBe(finney.revealRound);
    expect(tail.getUint16(8, true)).toBe(finney.commitRevealVersion);
    // A 4-weight payload with a 32-byte hotkey: 33 + 9 + 9 + 8 = 59 bytes, plus the 16-byte tag.
    expect(parsed.aesCiphertext.length).toBe(59 + 16);
  });

  it('our ciphertext of the same payload shape has exactly the Rust one’s length', () => {
    const payload = encodeWeightsTlockPayload({
      hotkey: new Uint8Array(32).fill(1),
      uids: [0, 1, 2, 3],
      values: [1, 2, 3, 4],
      versionKey: 1n,
    });
    expect(timelockEncrypt(QUICKNET, finney.revealRound, payload).length).toBe(commit.length);
  });
});

describe('WeightsTlockPayload', () => {
  it('round-trips and matches the SCALE bytes subtensor decodes', () => {
    const hotkey = new Uint8Array(32).fill(0xaa);
    const bytes = encodeWeightsTlockPayload({ hotkey, uids: [1, 300], values: [65535, 7], versionKey: 0x0102030405060708n });
    expect(u8aToHex(bytes)).toBe(`0x80${'aa'.repeat(32)}0801002c0108ffff07000807060504030201`);
    expect(decodeWeightsTlockPayload(bytes)).toEqual({ hotkey, uids: [1, 300], values: [65535, 7], versionKey: 0x0102030405060708n });
  });

  it('refuses bad input with typed errors', () => {
    expect(reason(() => encodeWeightsTlockPayload({ hotkey: new Uint8Array(32), uids: [1], values: [], versionKey: 0 }))).toBe(
      'INVALID_INPUT',
    );
    expect(reason(() => encodeWeightsTlockPayload({ hotkey: new Uint8Array(32), uids: [70000], values: [1], versionKey: 0 }))).toBe(
      'INVALID_INPUT',
    );
    expect(reason(() => decodeWeightsTlockPayload(new Uint8Array([0x80, 1, 2])))).toBe('MALFORMED_PAYLOAD');
  });
});

describe('LocalBeacon', () => {
  it('signs rounds that verify under its own key, and its ciphertexts open with its pulses only', () => {
    const beacon = new LocalBeacon(new Uint8Array(32).fill(7), 1_700_000_000);
    const pulse = beacon.pulse(42);
    expect(verifyPulse(beacon.info, pulse)).toBe(true);
    expect(verifyPulse(QUICKNET, pulse)).toBe(false);
    const ct = timelockEncrypt(beacon.info, 42, new Uint8Array([1, 2, 3]));
    expect(timelockDecrypt(ct, pulse.signature)).toEqual(new Uint8Array([1, 2, 3]));
    expect(reason(() => timelockDecrypt(ct, beacon.pulse(41).signature))).toBe('WRONG_SIGNATURE');
  });
});
