/**
 * Login nonces that cost nothing to hand out. The facilitator stored a row for every nonce asked
 * for, so anyone could make it write ~1,400 rows a second without logging in; now a nonce carries
 * its own expiry and an HMAC under the token secret, and only a successful login records its
 * nonce (once, in `facilitator_used_once`), so a nonce still logs in at most once.
 *
 * Shape: 48 hex digits, as before (clients treat it as an opaque string): 12 of expiry (ms since
 * the epoch), 16 random, 20 of HMAC-SHA256 (80 bits: plenty for a five-minute secret-keyed tag).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const EXPIRY_HEX = 12;
const RANDOM_HEX = 16;
const MAC_HEX = 20;

function mac(secret: string, data: string): string {
  return createHmac('sha256', secret).update(`nonce:${data}`).digest('hex').slice(0, MAC_HEX);
}

export function issueNonce(secret: string, nowMs: number, lifetimeSeconds: number): string {
  const expiry = Math.floor(nowMs + lifetimeSeconds * 1000)
    .toString(16)
    .padStart(EXPIRY_HEX, '0');
  const data = `${expiry}${randomBytes(RANDOM_HEX / 2).toString('hex')}`;
  return `${data}${mac(secret, data)}`;
}

/** When the nonce expires, or null when it is not one of ours or has expired. */
export function nonceExpiry(secret: string, nonce: string, nowMs: number): number | null {
  if (!/^[0-9a-f]{48}$/.test(nonce)) return null;
  const data = nonce.slice(0, EXPIRY_HEX + RANDOM_HEX);
  const given = Buffer.from(nonce.slice(EXPIRY_HEX + RANDOM_HEX));
  const expected = Buffer.from(mac(secret, data));
  if (!timingSafeEqual(given, expected)) return null;
  const expiresAt = parseInt(nonce.slice(0, EXPIRY_HEX), 16);
  return expiresAt > nowMs ? expiresAt : null;
}
