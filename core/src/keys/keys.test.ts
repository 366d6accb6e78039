import { mkdtemp, mkdir, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { cryptoWaitReady, signatureVerify } from '@polkadot/util-crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { HotkeyLoadError, LruCache, loadHotkey, publicKeyFromSs58, verifySignature } from './index.js';

const fixtures = fileURLToPath(new URL('./__fixtures__/wallets', import.meta.url));
const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
const BOB = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';

describe('loadHotkey', () => {
  it('loads dev URIs to the well-known addresses', async () => {
    expect((await loadHotkey({ uri: '//Alice' })).ss58).toBe(ALICE);
    expect((await loadHotkey({ uri: '//Bob' })).ss58).toBe(BOB);
  });

  it('derives a mnemonic exactly as bittensor does', async () => {
    // Phrase and address from a hotkey file bittensor wrote (ComputeHorde's local_stack miner).
    const hotkey = await loadHotkey({
      uri: 'chief path blood step top future bright powder coast absurd end strong web recipe concert point below ladder lazy gauge february radio egg coast',
    });
    expect(hotkey.ss58).toBe('5FYwNgYu5Wj7Vv49KtC3gXa1W1dn2BnMBGNKGrLy8pX9i4T7');
  });

  it('loads a 0x seed', async () => {
    const hotkey = await loadHotkey({ uri: '0xe73e22a9ea8a015e2882d125969b373506dd0906c716af040140a7e4ba39f61c' });
    expect(hotkey.ss58).toBe('5FYwNgYu5Wj7Vv49KtC3gXa1W1dn2BnMBGNKGrLy8pX9i4T7');
    expect(u8aToHex(hotkey.publicKey)).toBe('0x9a3d135957edbae32803bf22d9d69f203c66e721f0f5ff1f570e988a8f992369');
  });

  it('loads real bittensor wallet hotkey files by path and by {wallet, hotkey, walletsDir}', async () => {
    const miner = await loadHotkey({ file: join(fixtures, 'miner/hotkeys/default') });
    expect(miner.ss58).toBe('5FYwNgYu5Wj7Vv49KtC3gXa1W1dn2BnMBGNKGrLy8pX9i4T7');
    const validator = await loadHotkey({ wallet: 'validator', hotkey: 'default', walletsDir: fixtures });
    expect(validator.ss58).toBe('5CDYBwxDZwXnYSp7E39Vy92MVbCMtcK2i953oRxDm9Veko7M');
  });

  it('loads a wallet file that has only a phrase', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'horde-keys-'));
    await writeFile(
      join(dir, 'phrase-only'),
      JSON.stringify({
        secretPhrase:
          'chief path blood step top future bright powder coast absurd end strong web recipe concert point below ladder lazy gauge february radio egg coast',
        secretSeed: null,
        ss58Address: '5FYwNgYu5Wj7Vv49KtC3gXa1W1dn2BnMBGNKGrLy8pX9i4T7',
      }),
    );
    expect((await loadHotkey({ file: join(dir, 'phrase-only') })).ss58).toBe('5FYwNgYu5Wj7Vv49KtC3gXa1W1dn2BnMBGNKGrLy8pX9i4T7');
  });

  it('fails with HORDE_HOTKEY_LOAD_FAILED and a useful message', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'horde-keys-'));
    await mkdir(join(dir, 'w/hotkeys'), { recursive: true });
    await writeFile(join(dir, 'w/hotkeys/enc'), '$NACL\x00\x01binary');
    await writeFile(join(dir, 'w/hotkeys/notjson'), '{oops');
    await writeFile(
      join(dir, 'w/hotkeys/mismatch'),
      JSON.stringify({ secretSeed: '0xe73e22a9ea8a015e2882d125969b373506dd0906c716af040140a7e4ba39f61c', ss58Address: ALICE }),
    );
    await copyFile(join(fixtures, 'miner/hotkeys/default'), join(dir, 'w/hotkeys/ok'));
    const cases: [Parameters<typeof loadHotkey>[0], RegExp][] = [
      [{ uri: 'not a mnemonic at all' }, /not a valid dev URI, mnemonic or 0x seed/],
      [{ uri: 'arm clerk film target discover victory secret orbit until loop shrimp cover cover' }, /not a valid/],
      [{ uri: '  ' }, /empty/],
      [{ file: join(dir, 'missing') }, /not found/],
      [{ wallet: 'w', hotkey: 'enc', walletsDir: dir }, /encrypted/],
      [{ wallet: 'w', hotkey: 'notjson', walletsDir: dir }, /not valid JSON/],
      [{ wallet: 'w', hotkey: 'mismatch', walletsDir: dir }, /corrupt or was edited/],
    ];
    for (const [source, message] of cases) {
      const error = await loadHotkey(source).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error, JSON.stringify(source)).toBeInstanceOf(HotkeyLoadError);
      expect((error as HotkeyLoadError).code).toBe('HORDE_HOTKEY_LOAD_FAILED');
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain('not a mnemonic at all'); // secrets are not echoed
    }
    await expect(loadHotkey({ wallet: 'w', hotkey: 'ok', walletsDir: dir })).resolves.toBeTruthy();
  });
});

describe('sign and verify (wasm path) against @polkadot/util-crypto', () => {
  const message = 'validator:miner:1735787045 zażółć';
  beforeAll(() => cryptoWaitReady());

  it('our signatures verify with util-crypto, and util-crypto signatures verify with ours', async () => {
    const alice = await loadHotkey({ uri: '//Alice' });
    const ours = alice.sign(message);
    expect(ours).toMatch(/^0x[0-9a-f]{128}$/);
    expect(signatureVerify(new TextEncoder().encode(message), ours, ALICE).isValid).toBe(true);

    const pair = new Keyring({ type: 'sr25519' }).addFromUri('//Bob');
    const theirs = u8aToHex(pair.sign(new TextEncoder().encode(message)));
    expect(await verifySignature(message, theirs, BOB)).toBe(true);
    expect(await verifySignature(message, theirs.slice(2), BOB)).toBe(true); // bare hex, as Python accepts
  });

  it('refuses a wrong key, a tampered message, a tampered signature and garbage', async () => {
    const alice = await loadHotkey({ uri: '//Alice' });
    const sig = alice.sign(message);
    expect(await verifySignature(message, sig, BOB)).toBe(false);
    expect(await verifySignature(`${message}!`, sig, ALICE)).toBe(false);
    const flipped = sig.slice(0, 10) + (sig[10] === '0' ? '1' : '0') + sig.slice(11);
    expect(await verifySignature(message, flipped, ALICE)).toBe(false);
    expect(await verifySignature(message, '0x1234', ALICE)).toBe(false);
    expect(await verifySignature(message, sig, 'not-an-address')).toBe(false);
    expect(await verifySignature(message, sig, u8aToHex(alice.publicKey))).toBe(false); // hex is not an ss58
  });

  it('accepts the <Bytes>-wrapped form bittensor accepts (browser wallets sign that)', async () => {
    const pair = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
    const wrapped = u8aToHex(pair.sign(new TextEncoder().encode(`<Bytes>${message}</Bytes>`)));
    expect(await verifySignature(message, wrapped, ALICE)).toBe(true);
  });

  it('signs a string as its UTF-8 bytes, even when it looks like hex', async () => {
    const alice = await loadHotkey({ uri: '//Alice' });
    const sig = alice.sign('0xdeadbeef');
    expect(signatureVerify(new TextEncoder().encode('0xdeadbeef'), sig, ALICE).isValid).toBe(true);
  });
});

describe('public key cache', () => {
  it('decodes ss58 of any prefix to the same key and caches misses', () => {
    const generic = publicKeyFromSs58(ALICE);
    const polkadot = publicKeyFromSs58('15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5');
    expect(generic).not.toBeNull();
    expect(u8aToHex(polkadot!)).toBe(u8aToHex(generic!));
    expect(publicKeyFromSs58('5Grw')).toBeNull();
  });

  it('LruCache evicts the least recently used entry', () => {
    const lru = new LruCache<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.get('a');
    lru.set('c', 3);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe(1);
    expect(lru.size).toBe(2);
  });
});
