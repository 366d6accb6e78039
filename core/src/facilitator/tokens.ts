import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Bearer tokens: JWTs signed with HMAC-SHA256 (`alg: HS256`), subject = the client's hotkey.
 * Only what the facilitator itself issues is accepted: the header must be exactly ours, so `none`
 * or another algorithm never verifies.
 */

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

export interface TokenClaims {
  /** The client's hotkey (ss58). */
  readonly sub: string;
  /** Issued at, seconds since the epoch. */
  readonly iat: number;
  /** Expires at, seconds since the epoch. */
  readonly exp: number;
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: 'invalid' | 'expired' };

function sign(secret: string, data: string): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}

export function issueToken(secret: string, hotkey: string, nowMs: number, lifetimeSeconds: number): { token: string; claims: TokenClaims } {
  const iat = Math.floor(nowMs / 1000);
  const claims: TokenClaims = { sub: hotkey, iat, exp: iat + lifetimeSeconds };
  const body = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return { token: `${body}.${sign(secret, body).toString('base64url')}`, claims };
}

export function verifyToken(secret: string, token: string, nowMs: number): TokenCheck {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== HEADER) return { ok: false, reason: 'invalid' };
  const [header, payload, signature] = parts as [string, string, string];
  const expected = sign(secret, `${header}.${payload}`);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'invalid' };
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  const c = claims as Partial<TokenClaims>;
  if (typeof c.sub !== 'string' || typeof c.exp !== 'number' || typeof c.iat !== 'number') return { ok: false, reason: 'invalid' };
  if (nowMs / 1000 >= c.exp) return { ok: false, reason: 'expired' };
  return { ok: true, claims: { sub: c.sub, iat: c.iat, exp: c.exp } };
}
