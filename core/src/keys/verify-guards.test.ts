import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { encodeAddress } from '@polkadot/util-crypto';
import { sr25519Sign, sr25519Verify, waitReady } from '@polkadot/wasm-crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHotkey, verifySignatureSync, cryptoReady } from './index.js';
import { isRistrettoPoint, isSchnorrkelSignature } from './verify.js';

// The scalar order l of the Ristretto group, little-endian: a signature whose s is >= l is not canonical.
const GROUP_ORDER_LE = Buffer.from('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 'hex');

beforeAll(async () => {
  await Promise.all([cryptoReady(), waitReady()]);
});

describe('the verifier agrees with @polkadot/wasm-crypto and never reaches a wasm trap', () => {
  it('accepts what schnorrkel accepts and rejects tampered input, as @polkadot/wasm-crypto does', async () => {
    const alice = await loadHotkey({ uri: '//Alice' });
    for (let i = 0; i < 50; i++) {
      const message = `validator:miner:${1_735_787_045 + i}`;
      const signature = Buffer.from(alice.sign(message).slice(2), 'hex');
      const bytes = Buffer.from(message);
      expect(verifySignatureSync(message, signature, alice.ss58)).toBe(true);
      expect(sr25519Verify(signature, bytes, alice.publicKey)).toBe(true);
      const tampered = Buffer.from(signature);
      tampered[i % 64] = (tampered[i % 64] as number) ^ 1;
      expect(verifySignatureSync(message, tampered, alice.ss58)).toBe(sr25519Verify(tampered, bytes, alice.publicKey));
    }
  });

  it('answers false for signatures schnorrkel cannot parse: no marker bit, non-canonical scalar', async () => {
    const alice = await loadHotkey({ uri: '//Alice' });
    const message = 'blob';
    const signature = Buffer.from(alice.sign(message).slice(2), 'hex');
    expect(isSchnorrkelSignature(signature)).toBe(true);

    const unmarked = Buffer.from(signature);
    unmarked[63] = (unmarked[63] as number) & 0x7f;
    expect(isSchnorrkelSignature(unmarked)).toBe(false);
    expect(verifySignatureSync(message, unmarked, alice.ss58)).toBe(false);

    const nonCanonical = Buffer.concat([signature.subarray(0, 32), GROUP_ORDER_LE]);
    nonCanonical[63] = (nonCanonical[63] as number) | 0x80;
    expect(isSchnorrkelSignature(nonCanonical)).toBe(false);
    expect(verifySignatureSync(message, nonCanonical, alice.ss58)).toBe(false);
  });

  it('answers false for a well-formed ss58 address whose key is not a Ristretto point', async () => {
    const notAPoint = new Uint8Array(32).fill(0xff);
    expect(isRistrettoPoint(notAPoint)).toBe(false);
    const alice = await loadHotkey({ uri: '//Alice' });
    const signature = alice.sign('blob');
    expect(verifySignatureSync('blob', signature, encodeAddress(notAPoint, 42))).toBe(false);
    expect(verifySignatureSync('blob', signature, notAPoint)).toBe(false);
    expect(isRistrettoPoint(alice.publicKey)).toBe(true);
  });

  it('random keys and signatures never throw and print nothing (checked in a separate process)', () => {
    // A trap in the wasm module would print a Rust panic on stderr: run a fuzz loop in a child
    // process against the built module and require silence.
    const verifyModule = fileURLToPath(new URL('../../dist/keys/verify.js', import.meta.url));
    const script = `
      const { randomBytes } = await import('node:crypto');
      const { encodeAddress } = await import('@polkadot/util-crypto');
      const v = await import(${JSON.stringify(verifyModule)});
      await v.cryptoReady();
      let accepted = 0;
      for (let i = 0; i < 3000; i++) {
        const sig = randomBytes(64);
        if (i % 2) sig[63] |= 0x80;
        if (v.verifySignatureSync('m', sig, encodeAddress(randomBytes(32), 42))) accepted++;
      }
      console.log('accepted', accepted);`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    });
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('accepted 0');
    expect(child.status).toBe(0);
  });
});

it('signatures made by @polkadot/wasm-crypto verify, and ours verify there', async () => {
  const bob = await loadHotkey({ uri: '//Bob' });
  const { secretKey } = (await import('@polkadot/keyring/pair/decode')).decodePair(undefined, bob.pair.encodePkcs8(), ['none']);
  const message = Buffer.from('receipt blob');
  const theirs = sr25519Sign(bob.publicKey, secretKey, message);
  expect(verifySignatureSync(message, theirs, bob.ss58)).toBe(true);
  expect(sr25519Verify(Buffer.from(bob.sign(message).slice(2), 'hex'), message, bob.publicKey)).toBe(true);
});
