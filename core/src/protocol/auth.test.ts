import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { cryptoWaitReady, signatureVerify } from '@polkadot/util-crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHotkey, type Hotkey } from '../keys/index.js';
import goldens from './__fixtures__/auth-blobs.json' with { type: 'json' };
import { AuthVerifier, authBlob, authErrorReply, createValidatorAuth, type AuthResult } from './auth.js';
import { encodeMessage, parseMinerToValidator, parseValidatorToMiner } from './codec.js';
import type { ValidatorAuthForMiner } from './messages.js';

let validator: Hotkey;
let miner: Hotkey;
let stranger: Hotkey;
const T0 = 1_735_787_045_000; // ms

beforeAll(async () => {
  await cryptoWaitReady();
  [validator, miner, stranger] = await Promise.all([
    loadHotkey({ uri: '//Alice' }),
    loadHotkey({ uri: '//Bob' }),
    loadHotkey({ uri: '//Eve' }),
  ]);
});

function verifierAt(nowMs: { value: number }, extra: Partial<ConstructorParameters<typeof AuthVerifier>[0]> = {}) {
  return new AuthVerifier({ minerHotkey: miner.ss58, now: () => nowMs.value, ...extra });
}

const code = (r: AuthResult) => (r.ok ? 'OK' : r.error.code);

describe('auth blob', () => {
  it.each(goldens.map((g) => [g.blob, g] as const))('matches the Python f-string: %s', (_blob, g) => {
    expect(authBlob(g.validator_hotkey, g.miner_hotkey, g.timestamp)).toBe(g.blob);
  });

  it('createValidatorAuth signs the blob with whole seconds, as int(time.time())', () => {
    const msg = createValidatorAuth(validator, miner.ss58, T0 + 999);
    expect(msg).toMatchObject({
      message_type: 'ValidatorAuthForMiner',
      validator_hotkey: validator.ss58,
      miner_hotkey: miner.ss58,
      timestamp: 1_735_787_045,
    });
    const blob = new TextEncoder().encode(`${validator.ss58}:${miner.ss58}:1735787045`);
    expect(signatureVerify(blob, msg.signature, validator.ss58).isValid).toBe(true);
  });
});

describe('AuthVerifier', () => {
  it('accepts a fresh auth, exactly as a ComputeHorde validator builds it', async () => {
    const now = { value: T0 };
    // Built the way compute_horde's miner client does, signed by the default polkadot signer.
    const pair = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
    const timestamp = Math.floor(T0 / 1000) - 3;
    const msg: ValidatorAuthForMiner = {
      message_type: 'ValidatorAuthForMiner',
      validator_hotkey: validator.ss58,
      miner_hotkey: miner.ss58,
      timestamp,
      signature: u8aToHex(pair.sign(new TextEncoder().encode(authBlob(validator.ss58, miner.ss58, timestamp)))),
    };
    // Over the wire and back, as the miner receives it.
    const parsed = parseValidatorToMiner(encodeMessage(msg));
    expect(parsed.ok).toBe(true);
    const result = await verifierAt(now).verify(parsed.ok ? (parsed.message as ValidatorAuthForMiner) : msg, validator.ss58);
    expect(result).toEqual({ ok: true, validatorHotkey: validator.ss58 });
  });

  it('lets a validator reconnect in the same second (new signature), but refuses a replay', async () => {
    const now = { value: T0 };
    const verifier = verifierAt(now);
    const first = createValidatorAuth(validator, miner.ss58, T0);
    const second = createValidatorAuth(validator, miner.ss58, T0);
    expect(second.timestamp).toBe(first.timestamp);
    expect(second.signature).not.toBe(first.signature); // sr25519 signatures are randomised
    expect(code(await verifier.verify(first, validator.ss58))).toBe('OK');
    expect(code(await verifier.verify(second, validator.ss58))).toBe('OK');
    now.value += 4_000;
    const replay = await verifier.verify(first, validator.ss58);
    expect(code(replay)).toBe('REPLAYED');
    // A replay with the signature re-cased or without 0x is the same message.
    expect(code(await verifier.verify({ ...first, signature: first.signature.toUpperCase().replace('0X', '') }, validator.ss58))).toBe(
      'REPLAYED',
    );
  });

  it('applies the 10 s age rule with the original comparison, and a 5 s future bound', async () => {
    const now = { value: T0 };
    const verifier = verifierAt(now);
    const ts = (offsetSeconds: number) => createValidatorAuth(validator, miner.ss58, T0 + offsetSeconds * 1000);
    expect(code(await verifier.verify(ts(-10), validator.ss58))).toBe('OK'); // timestamp == now - 10 passes
    expect(code(await verifier.verify(ts(-11), validator.ss58))).toBe('TOKEN_TOO_OLD');
    expect(code(await verifier.verify(ts(5), validator.ss58))).toBe('OK');
    expect(code(await verifier.verify(ts(6), validator.ss58))).toBe('TOKEN_FROM_FUTURE');
    const relaxed = verifierAt(now, { maxAgeSeconds: 60, maxFutureSeconds: 0 });
    expect(code(await relaxed.verify(ts(-59), validator.ss58))).toBe('OK');
    expect(code(await relaxed.verify(ts(1), validator.ss58))).toBe('TOKEN_FROM_FUTURE');
  });

  it('refuses wrong hotkeys and forged signatures', async () => {
    const now = { value: T0 };
    const verifier = verifierAt(now);
    const good = createValidatorAuth(validator, miner.ss58, T0);
    expect(code(await verifier.verify(createValidatorAuth(validator, stranger.ss58, T0), validator.ss58))).toBe('WRONG_MINER_HOTKEY');
    expect(code(await verifier.verify(good, stranger.ss58))).toBe('WRONG_VALIDATOR_HOTKEY');
    // Eve signs a message claiming to be Alice.
    const forged = { ...good, signature: stranger.sign(authBlob(validator.ss58, miner.ss58, good.timestamp)) };
    expect(code(await verifier.verify(forged, validator.ss58))).toBe('INVALID_SIGNATURE');
    expect(code(await verifier.verify({ ...good, timestamp: good.timestamp - 1 }, validator.ss58))).toBe('INVALID_SIGNATURE');
    expect(code(await verifier.verify({ ...good, signature: 'garbage' }, validator.ss58))).toBe('INVALID_SIGNATURE');
    // Forgeries did not take replay-cache room.
    expect(verifier.replayCacheEntries).toBe(0);
    // A local miner (minerHotkey null) does not check its own hotkey.
    const local = new AuthVerifier({ minerHotkey: null, now: () => now.value });
    expect(code(await local.verify(createValidatorAuth(validator, stranger.ss58, T0), validator.ss58))).toBe('OK');
  });

  it('asks who the validator is, and maps refusals to the wire', async () => {
    const now = { value: T0 };
    const status = new Map([[validator.ss58, 'inactive' as const]]);
    const verifier = verifierAt(now, { validatorStatus: (hk) => status.get(hk) ?? 'unknown' });
    const inactive = await verifier.verify(createValidatorAuth(validator, miner.ss58, T0), validator.ss58);
    expect(code(inactive)).toBe('VALIDATOR_INACTIVE');
    const unknown = await verifier.verify(createValidatorAuth(stranger, miner.ss58, T0), stranger.ss58);
    expect(code(unknown)).toBe('UNKNOWN_VALIDATOR');
    if (unknown.ok) throw new Error('unreachable');
    const reply = authErrorReply(unknown.error);
    expect(reply).toMatchObject({ message_type: 'UnauthorizedError', code: 'UNKNOWN_VALIDATOR' });
    // The reply parses as a ComputeHorde miner→validator message.
    expect(parseMinerToValidator(encodeMessage(reply)).ok).toBe(true);

    const replayed = verifierAt(now);
    const msg = createValidatorAuth(validator, miner.ss58, T0);
    await replayed.verify(msg, validator.ss58);
    const again = await replayed.verify(msg, validator.ss58);
    if (again.ok) throw new Error('unreachable');
    expect(authErrorReply(again.error)).toMatchObject({ message_type: 'GenericError' });
  });

  it('forgets entries once the age rule covers them, and fails closed when full', async () => {
    const now = { value: T0 };
    const verifier = verifierAt(now, { replayCacheSize: 2 });
    expect(code(await verifier.verify(createValidatorAuth(validator, miner.ss58, T0), validator.ss58))).toBe('OK');
    expect(code(await verifier.verify(createValidatorAuth(validator, miner.ss58, T0), validator.ss58))).toBe('OK');
    expect(code(await verifier.verify(createValidatorAuth(validator, miner.ss58, T0), validator.ss58))).toBe('REPLAY_CACHE_FULL');
    now.value += 11_000; // the first two are now too old to replay anyway
    expect(code(await verifier.verify(createValidatorAuth(validator, miner.ss58, now.value), validator.ss58))).toBe('OK');
    expect(verifier.replayCacheEntries).toBe(1);
  });
});
