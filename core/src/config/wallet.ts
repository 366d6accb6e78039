import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { HordeError, type HordeErrorCode } from '../errors.js';
import { expandHome } from './load.js';
import type { HotkeySourceConfig } from './sections/hotkey.js';

/** Where the bittensor CLI keeps wallets. */
export const DEFAULT_WALLETS_DIR = '~/.bittensor/wallets';

/** The catalogue's `HORDE_WALLET_FILE_*` codes (core/src/error-catalogue.ts says what each means). */
export type WalletFileErrorCode = Extract<HordeErrorCode, `HORDE_WALLET_FILE_${string}`>;

/** A bittensor hotkey file that is missing or unusable. The message names the file and the fix. */
export class WalletFileError extends HordeError {
  declare readonly code: WalletFileErrorCode;

  constructor(
    code: WalletFileErrorCode,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected 0x and 64 hex digits');

/**
 * The JSON the bittensor CLI writes for an unencrypted hotkey (`accountId`, `publicKey`,
 * `privateKey`, `secretPhrase`, `secretSeed`, `ss58Address`). Keys made from a seed have no phrase,
 * and btwallet writes `null` for what it lacks. Other fields are kept, not rejected.
 */
export const walletHotkeyFileSchema = z
  .looseObject({
    secretPhrase: z.string().min(1).nullish(),
    secretSeed: hex32.nullish(),
    ss58Address: z.string().min(1),
    publicKey: hex32.nullish(),
    accountId: hex32.nullish(),
  })
  .refine((file) => Boolean(file.secretPhrase || file.secretSeed), {
    message: 'has neither secretPhrase nor secretSeed, so no key can be derived from it (is it a public-key-only file?)',
  });

export type WalletHotkeyFile = z.output<typeof walletHotkeyFileSchema>;

/** `<walletsDir>/<wallet>/hotkeys/<hotkey>`, walletsDir defaulting to `~/.bittensor/wallets`. */
export function walletHotkeyPath(source: { wallet: string; hotkey: string; walletsDir?: string }): string {
  return join(expandHome(source.walletsDir ?? DEFAULT_WALLETS_DIR), source.wallet, 'hotkeys', source.hotkey);
}

/** The hotkey file a source points at, or null for a URI source (no file involved). */
export function hotkeyFilePath(source: HotkeySourceConfig): string | null {
  if ('uri' in source) return null;
  if ('file' in source) return expandHome(source.file);
  return walletHotkeyPath(source);
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

/** Reads and checks a bittensor hotkey file; throws `WalletFileError` saying what is wrong with it. */
export async function readWalletHotkeyFile(path: string): Promise<WalletHotkeyFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') {
      throw new WalletFileError(
        'HORDE_WALLET_FILE_NOT_FOUND',
        path,
        `Hotkey file not found: ${path}. Create the hotkey (btcli wallet new_hotkey) or point the config's hotkey at an existing one ({ wallet, hotkey }, { file } or { uri }).`,
        { cause: error },
      );
    }
    throw new WalletFileError('HORDE_WALLET_FILE_INVALID', path, `Cannot read hotkey file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }

  const trimmed = text.trimStart();
  if (trimmed.startsWith('$NACL') || trimmed.startsWith('$BTWALLET') || trimmed.startsWith('$ANSIBLE_VAULT')) {
    throw new WalletFileError(
      'HORDE_WALLET_FILE_INVALID',
      path,
      `Hotkey file ${path} is encrypted; horde reads unencrypted hotkey files (btcli writes hotkeys unencrypted unless asked), or give the key as hotkey.uri.`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new WalletFileError('HORDE_WALLET_FILE_INVALID', path, `Hotkey file ${path} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const parsed = walletHotkeyFileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message));
    throw new WalletFileError(
      'HORDE_WALLET_FILE_INVALID',
      path,
      `Hotkey file ${path} is not a usable bittensor hotkey: ${problems.join('; ')}`,
    );
  }
  return parsed.data;
}
