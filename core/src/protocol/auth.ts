import { HordeError } from '../errors.js';
import type { Hotkey } from '../keys/index.js';
import { verifySignature } from '../keys/verify.js';
import type { UnauthorizedCode } from './enums.js';
import type { GenericError, UnauthorizedError, ValidatorAuthForMiner } from './messages.js';

/**
 * Validator → miner authentication: the first message on `/v0.1/validator_interface/{hotkey}` is a
 * `ValidatorAuthForMiner` whose signature covers `"{validator_hotkey}:{miner_hotkey}:{timestamp}"`
 * (timestamp = whole Unix seconds, as Python's `int(time.time())`).
 *
 * The original miner checks: timestamp >= now - 10 s, miner hotkey is its own, validator hotkey is
 * the one in the URL, signature, and that the validator is known and active. horde adds:
 * - a future bound (default 5 s): a message stamped ahead of the clock would otherwise stay
 *   replayable for as long as it is "in the future" plus 10 s;
 * - a replay cache: a message accepted once is refused again while it could still pass the age
 *   check. sr25519 signatures are randomised, so a real validator that reconnects in the same second
 *   sends a different signature and still gets in; only a byte-identical re-send is refused.
 */

export const AUTH_MAX_AGE_SECONDS = 10;
export const AUTH_MAX_FUTURE_SECONDS = 5;
export const AUTH_REPLAY_CACHE_SIZE = 100_000;

/** The bytes the validator signs. */
export function authBlob(validatorHotkey: string, minerHotkey: string, timestamp: number): string {
  return `${validatorHotkey}:${minerHotkey}:${timestamp}`;
}

/** The auth message a validator sends first. `nowMs` defaults to the wall clock. */
export function createValidatorAuth(validator: Hotkey, minerHotkey: string, nowMs: number = Date.now()): ValidatorAuthForMiner {
  const timestamp = Math.floor(nowMs / 1000);
  return {
    message_type: 'ValidatorAuthForMiner',
    validator_hotkey: validator.ss58,
    miner_hotkey: minerHotkey,
    timestamp,
    signature: validator.sign(authBlob(validator.ss58, minerHotkey, timestamp)),
  };
}

export type AuthErrorCode =
  | 'TOKEN_TOO_OLD'
  | 'TOKEN_FROM_FUTURE'
  | 'REPLAYED'
  | 'INVALID_SIGNATURE'
  | 'WRONG_MINER_HOTKEY'
  | 'WRONG_VALIDATOR_HOTKEY'
  | 'UNKNOWN_VALIDATOR'
  | 'VALIDATOR_INACTIVE'
  | 'REPLAY_CACHE_FULL';

/** Why an auth message was refused. */
export class AuthError extends HordeError {
  declare readonly code: AuthErrorCode;

  constructor(code: AuthErrorCode, message: string) {
    super(code, message);
  }
}

export type AuthResult = { ok: true; validatorHotkey: string } | { ok: false; error: AuthError };

/** What the miner knows about a validator hotkey (from the metagraph). */
export type ValidatorStatus = 'active' | 'inactive' | 'unknown';

export interface AuthVerifierOptions {
  /** The miner's own hotkey; null skips the check (a local/trusted miner, as IS_LOCAL_MINER does). */
  minerHotkey: string | null;
  maxAgeSeconds?: number;
  maxFutureSeconds?: number;
  /** Most accepted auths remembered at once; when full, new auths are refused (fail closed). */
  replayCacheSize?: number;
  /** Milliseconds since the epoch; defaults to Date.now (inject the runtime Clock). */
  now?: () => number;
  /** Known/active check; when absent every validator counts as active. */
  validatorStatus?: (hotkey: string) => ValidatorStatus | Promise<ValidatorStatus>;
}

/** Checks `ValidatorAuthForMiner` messages, with the replay protection described above. */
export class AuthVerifier {
  private readonly maxAge: number;
  private readonly maxFuture: number;
  private readonly capacity: number;
  private readonly now: () => number;
  /** replay key → second after which the entry can go (the age check refuses it by then). */
  private readonly seen = new Map<string, number>();
  private nextSweepAt = 0;

  constructor(private readonly opts: AuthVerifierOptions) {
    this.maxAge = opts.maxAgeSeconds ?? AUTH_MAX_AGE_SECONDS;
    this.maxFuture = opts.maxFutureSeconds ?? AUTH_MAX_FUTURE_SECONDS;
    this.capacity = opts.replayCacheSize ?? AUTH_REPLAY_CACHE_SIZE;
    this.now = opts.now ?? Date.now;
  }

  /** Number of auths currently remembered. */
  get replayCacheEntries(): number {
    return this.seen.size;
  }

  /**
   * Verifies `msg` arriving on the connection for `urlValidatorHotkey` (the `{hotkey}` path
   * segment). Cheap checks first, the signature after, the replay cache last, so that neither
   * garbage nor forgeries can fill the cache.
   */
  async verify(msg: ValidatorAuthForMiner, urlValidatorHotkey: string): Promise<AuthResult> {
    const nowSeconds = this.now() / 1000;
    const fail = (code: AuthErrorCode, message: string): AuthResult => ({ ok: false, error: new AuthError(code, message) });

    // Same comparison as the original: timestamp < time.time() - AUTH_MESSAGE_MAX_AGE is too old.
    if (msg.timestamp < nowSeconds - this.maxAge) {
      return fail('TOKEN_TOO_OLD', `auth message is ${Math.floor(nowSeconds - msg.timestamp)} s old (limit ${this.maxAge} s)`);
    }
    if (msg.timestamp > nowSeconds + this.maxFuture) {
      return fail(
        'TOKEN_FROM_FUTURE',
        `auth message is dated ${Math.ceil(msg.timestamp - nowSeconds)} s ahead (limit ${this.maxFuture} s); check the validator's clock`,
      );
    }
    if (this.opts.minerHotkey !== null && msg.miner_hotkey !== this.opts.minerHotkey) {
      return fail('WRONG_MINER_HOTKEY', `wrong miner hotkey (${this.opts.minerHotkey}!=${msg.miner_hotkey})`);
    }
    if (msg.validator_hotkey !== urlValidatorHotkey) {
      return fail('WRONG_VALIDATOR_HOTKEY', `wrong validator hotkey (${urlValidatorHotkey}!=${msg.validator_hotkey})`);
    }
    const blob = authBlob(msg.validator_hotkey, msg.miner_hotkey, msg.timestamp);
    if (!(await verifySignature(blob, msg.signature, msg.validator_hotkey))) {
      return fail('INVALID_SIGNATURE', 'Signature mismatches');
    }
    if (this.opts.validatorStatus) {
      const status = await this.opts.validatorStatus(msg.validator_hotkey);
      if (status === 'unknown') return fail('UNKNOWN_VALIDATOR', `Unknown validator: ${msg.validator_hotkey}`);
      if (status === 'inactive') return fail('VALIDATOR_INACTIVE', `Inactive validator: ${msg.validator_hotkey}`);
    }

    this.sweep(nowSeconds);
    const key = `${msg.validator_hotkey}:${msg.miner_hotkey}:${msg.timestamp}:${msg.signature.toLowerCase().replace(/^0x/, '')}`;
    if (this.seen.has(key)) return fail('REPLAYED', 'this auth message was already used');
    if (this.seen.size >= this.capacity) {
      return fail(
        'REPLAY_CACHE_FULL',
        `too many validator authentications in the last ${this.maxAge + this.maxFuture} s; try again shortly`,
      );
    }
    this.seen.set(key, msg.timestamp + this.maxAge);
    return { ok: true, validatorHotkey: msg.validator_hotkey };
  }

  /** Drops entries the age check already refuses. Runs at most once a second. */
  private sweep(nowSeconds: number): void {
    if (nowSeconds < this.nextSweepAt && this.seen.size < this.capacity) return;
    this.nextSweepAt = nowSeconds + 1;
    for (const [key, expiresAt] of this.seen) {
      if (expiresAt < nowSeconds) this.seen.delete(key);
    }
  }
}

const WIRE_CODES: ReadonlySet<string> = new Set<UnauthorizedCode>(['TOKEN_TOO_OLD', 'UNKNOWN_VALIDATOR', 'VALIDATOR_INACTIVE']);

/**
 * The reply for a refused auth. The three codes ComputeHorde's `UnauthorizedError` knows go out as
 * that message; horde's own reasons (future timestamp, replay, signature, hotkeys, cache full) go
 * out as `GenericError` — which is also what the original miner sends for every auth failure — so
 * a ComputeHorde validator parses every reply.
 */
export function authErrorReply(error: AuthError): UnauthorizedError | GenericError {
  const details = `Validator not authenticated due to: ${error.message}`;
  if (WIRE_CODES.has(error.code)) {
    return { message_type: 'UnauthorizedError', code: error.code as UnauthorizedCode, details };
  }
  return { message_type: 'GenericError', details };
}
