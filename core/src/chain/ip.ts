/**
 * Axon addresses travel as `u128` plus an ip type (4 or 6), as in `serve_axon` and `AxonInfo`
 * (the SDK's `net.ip_to_int` / `int_to_ip`).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { defineError } from '../errors.js';

export class InvalidIpError extends defineError('HORDE_INVALID_IP') {}

function ipv4ToInt(ip: string): bigint {
  return ip.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number.parseInt(part, 10)), 0n);
}

function ipv6ToInt(ip: string): bigint {
  let text = ip;
  // A trailing dotted quad (::ffff:1.2.3.4) stands for the last two groups.
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const v4 = ipv4ToInt(quad[1]!);
    text = `${text.slice(0, quad.index)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

/** `1.2.3.4` → `{ ip: 16909060n, ipType: 4 }`; IPv6 addresses → ipType 6. */
export function ipToInt(ip: string): { ip: bigint; ipType: 4 | 6 } {
  if (isIPv4(ip)) return { ip: ipv4ToInt(ip), ipType: 4 };
  if (isIPv6(ip)) return { ip: ipv6ToInt(ip), ipType: 6 };
  throw new InvalidIpError(`${JSON.stringify(ip)} is not an IPv4 or IPv6 address`);
}

/** The inverse of `ipToInt`; IPv6 comes back in its shortest form (`::1`). */
export function intToIp(value: bigint | number | string, ipType: number): string {
  const n = BigInt(value);
  if (ipType === 4) {
    if (n < 0n || n > 0xffff_ffffn) throw new InvalidIpError(`${n} is not an IPv4 address`);
    return [24n, 16n, 8n, 0n].map((shift) => ((n >> shift) & 0xffn).toString()).join('.');
  }
  if (ipType === 6) {
    if (n < 0n || n >= 1n << 128n) throw new InvalidIpError(`${n} is not an IPv6 address`);
    const groups = Array.from({ length: 8 }, (_, i) => ((n >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
    // WHATWG URL parsing writes IPv6 hosts in RFC 5952 canonical (compressed) form.
    return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
  }
  throw new InvalidIpError(`ip type must be 4 or 6, got ${ipType}`);
}
