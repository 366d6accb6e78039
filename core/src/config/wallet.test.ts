import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { cryptoWaitReady, mnemonicGenerate, mnemonicToMiniSecret } from '@polkadot/util-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hotkeyFilePath, loadConfig, readWalletHotkeyFile, walletHotkeyPath, WalletFileError } from '@horde/core/runtime';

const root = mkdtempSync(join(tmpdir(), 'horde-wallets-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Writes a hotkey file the way the bittensor CLI does: <walletsDir>/<wallet>/hotkeys/<hotkey>. */
function writeHotkey(wallet: string, hotkey: string, content: string): string {
  const dir = join(root, 'wallets', wallet, 'hotkeys');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, hotkey);
  writeFileSync(path, content);
  return path;
}

let mnemonic: string;
let ss58: string;
let publicKey: string;
let seed: string;

beforeAll(async () => {
  await cryptoWaitReady();
  mnemonic = mnemonicGenerate(12);
  const pair = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri(mnemonic);
  ss58 = pair.address;
  publicKey = u8aToHex(pair.publicKey);
  seed = u8aToHex(mnemonicToMiniSecret(mnemonic));
});

async function readError(path: string): Promise<WalletFileError> {
  const error = await readWalletHotkeyFile(path).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(WalletFileError);
  return error as WalletFileError;
}

describe('bittensor wallet hotkey files', () => {
  it('finds the hotkey of a wallet config and reads the file btcli writes', async () => {
    const path = writeHotkey(
      'miner',
      'hot1',
      JSON.stringify({
        accountId: publicKey,
        publicKey,
        privateKey: `0x${'11'.repeat(64)}`,
        secretPhrase: mnemonic,
        secretSeed: seed,
        ss58Address: ss58,
      }),
    );
    const dir = mkdtempSync(join(root, 'project-'));
    writeFileSync(join(dir, 'horde.config.yaml'), `hotkey:\n  wallet: miner\n  hotkey: hot1\n  walletsDir: ${join(root, 'wallets')}\n`);
    const config = await loadConfig({ cwd: dir, env: {} });

    expect(hotkeyFilePath(config.hotkey)).toBe(path);
    const file = await readWalletHotkeyFile(path);
    expect(file.ss58Address).toBe(ss58);
    expect(file.secretPhrase).toBe(mnemonic);
    expect(file.secretSeed).toBe(seed);
  });

  it('accepts a seed-only file (btwallet writes null for the phrase)', async () => {
    const path = writeHotkey('miner', 'seed-only', JSON.stringify({ secretPhrase: null, secretSeed: seed, ss58Address: ss58, publicKey }));
    expect((await readWalletHotkeyFile(path)).secretSeed).toBe(seed);
  });

  it('defaults to ~/.bittensor/wallets', () => {
    expect(walletHotkeyPath({ wallet: 'default', hotkey: 'default' })).toBe(join(homedir(), '.bittensor/wallets/default/hotkeys/default'));
    expect(hotkeyFilePath({ uri: '//Alice' })).toBeNull();
  });

  it('says how to fix a missing file', async () => {
    const error = await readError(join(root, 'wallets', 'nobody', 'hotkeys', 'none'));
    expect(error.code).toBe('HORDE_WALLET_FILE_NOT_FOUND');
    expect(error.message).toContain(`Hotkey file not found: ${join(root, 'wallets', 'nobody', 'hotkeys', 'none')}`);
    expect(error.message).toContain('btcli wallet new_hotkey');
  });

  it('reports a file that is not JSON, and an encrypted one', async () => {
    const broken = await readError(writeHotkey('broken', 'h', '{"ss58Address": '));
    expect(broken.code).toBe('HORDE_WALLET_FILE_INVALID');
    expect(broken.message).toContain('is not valid JSON');

    const encrypted = await readError(writeHotkey('locked', 'h', '$NACL' + 'x'.repeat(40)));
    expect(encrypted.message).toContain('is encrypted');
  });

  it('reports a file with neither secretPhrase nor secretSeed, and a malformed seed', async () => {
    const noSecret = await readError(writeHotkey('public', 'h', JSON.stringify({ ss58Address: ss58, publicKey })));
    expect(noSecret.message).toContain('has neither secretPhrase nor secretSeed');

    const badSeed = await readError(writeHotkey('badseed', 'h', JSON.stringify({ ss58Address: ss58, secretSeed: '0x1234' })));
    expect(badSeed.message).toContain('secretSeed: expected 0x and 64 hex digits');
  });
});
