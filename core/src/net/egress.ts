/**
 * Where the executor may connect when it downloads a volume or uploads a job's output.
 *
 * URLs come from validators, so a volume URL is a request the validator makes from the miner's
 * network: without a filter it reads the host's metadata service (cloud credentials), the miner's
 * own `/metrics`, or anything internal. The policy refuses, by default:
 *  - loopback (127.0.0.0/8, ::1), link-local (169.254.0.0/16 — the metadata address —, fe80::/10),
 *    private and unique-local ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7 with the
 *    fd00::/8 metadata addresses), unspecified, multicast and reserved ranges;
 *  - every address of the machine's own interfaces (its public address included);
 * and checks the addresses a name resolves to (every one of them), on the first request and on
 * every redirect hop. `allow` lists CIDRs (or single addresses) operators open on purpose, e.g.
 * their own object storage on a private network; tests and the devnet open 127.0.0.1 this way.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { defineError } from '../errors.js';
import { definedFields } from '../object/defined-fields.js';
import { extraCaDispatcher, type FetchDispatcher } from './extra-ca.js';

/** A URL the egress policy does not let the executor reach. */
export class EgressRefusedError extends defineError('HORDE_EGRESS_REFUSED') {}

/** The policy's settings were wrong (an allowlist entry that is not a CIDR or an address). */
export class EgressConfigError extends defineError('HORDE_EGRESS_CONFIG') {}

/** Ranges refused unless allowlisted (IANA special-purpose registries, the parts a job never needs). */
const REFUSED_V4: readonly (readonly [string, number])[] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
const REFUSED_V6: readonly (readonly [string, number])[] = [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96], // NAT64: reaches IPv4 addresses, private ones included
  ['fc00::', 7], // unique local, with the fd00::/8 metadata addresses
  ['fe80::', 10],
  ['ff00::', 8],
];

/** Redirect hops followed before the request is refused (fetch's own limit is 20). */
export const MAX_REDIRECTS = 10;

export type Lookup = (hostname: string) => Promise<readonly { address: string; family: number }[]>;

export interface EgressPolicyOptions {
  /** CIDRs or single addresses allowed even though they are in a refused range. */
  readonly allow?: readonly string[];
  /** The machine's own addresses (default: every interface's); refused unless allowlisted. */
  readonly ownAddresses?: readonly string[];
  /** Name resolution (default: the system resolver, every address). */
  readonly lookup?: Lookup;
  /**
   * A PEM file whose certificates HTTPS requests trust beside node's bundled roots: the agent's
   * HORDE_EXTRA_CA_CERTS, its NODE_EXTRA_CA_CERTS read on first use (net/extra-ca.ts).
   */
  readonly extraCaFile?: string;
}

/**
 * `::ffff:1.2.3.4` is 1.2.3.4: checked as IPv4, so the mapped form is no way around the policy.
 * `address` is an IP address (an interface's, a resolver's answer, or a literal `isIP` accepted),
 * so a colon alone says IPv6: `isIP` would run node's IPv6 expression, whose first use costs
 * 3-7 ms, on every executor's start (its own addresses are normalised before the job arrives).
 */
function normalise(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return { address: mapped[1]!, family: 'ipv4' };
  return { address, family: address.includes(':') ? 'ipv6' : 'ipv4' };
}

function parseCidr(entry: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const [address = '', prefixText] = entry.trim().split('/');
  const version = isIP(address);
  if (version === 0)
    throw new EgressConfigError(`egress allowlist entry "${entry}" is not an IP address or CIDR (e.g. 10.0.0.0/8, 127.0.0.1/32)`);
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    throw new EgressConfigError(`egress allowlist entry "${entry}" has a bad prefix length (0 to ${max})`);
  }
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Checks an allowlist setting, throwing `EgressConfigError` for the first bad entry. */
export function validateEgressAllowlist(entries: readonly string[]): void {
  for (const entry of entries) parseCidr(entry);
}

/** Every address of this machine's network interfaces. */
export function machineAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .map((nic) => nic.address.replace(/%.*$/, ''));
}

export class EgressPolicy {
  private readonly refused = new BlockList();
  private readonly allowed = new BlockList();
  private readonly own: ReadonlySet<string>;
  private readonly lookup: Lookup;
  private readonly extraCaFile: string | null;

  constructor(options: EgressPolicyOptions = {}) {
    for (const [address, prefix] of REFUSED_V4) this.refused.addSubnet(address, prefix, 'ipv4');
    for (const [address, prefix] of REFUSED_V6) this.refused.addSubnet(address, prefix, 'ipv6');
    for (const entry of options.allow ?? []) {
      const { address, prefix, family } = parseCidr(entry);
      this.allowed.addSubnet(address, prefix, family);
    }
    this.own = new Set((options.ownAddresses ?? machineAddresses()).map((a) => normalise(a).address.toLowerCase()));
    this.lookup = options.lookup ?? ((hostname) => dnsLookup(hostname, { all: true, verbatim: true }));
    this.extraCaFile = options.extraCaFile || null;
  }

  /** What `fetch` connects to `url` with: a dispatcher trusting `extraCaFile` too for HTTPS, else fetch's own. */
  dispatcherFor(url: URL): Promise<FetchDispatcher | undefined> {
    return url.protocol === 'https:' && this.extraCaFile !== null ? extraCaDispatcher(this.extraCaFile) : Promise.resolve(undefined);
  }

  /** Why `address` is refused, or null when the executor may connect to it. */
  refusal(rawAddress: string): string | null {
    const { address, family } = normalise(rawAddress);
    if (this.allowed.check(address, family)) return null;
    if (this.own.has(address.toLowerCase())) return `${address} is an address of this machine`;
    if (this.refused.check(address, family)) return `${address} is in a loopback, link-local, private or reserved range`;
    return null;
  }

  /**
   * Resolves the URL's host and throws `EgressRefusedError` unless it is http(s) and every address
   * it resolves to is allowed (a name with one internal address among public ones is refused).
   */
  async check(url: URL): Promise<void> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new EgressRefusedError(`${url.protocol} URLs are not allowed (http and https only)`);
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    let addresses: readonly { address: string }[];
    if (isIP(host)) addresses = [{ address: host }];
    else {
      try {
        addresses = await this.lookup(host);
      } catch (error) {
        throw new EgressRefusedError(`${host} does not resolve: ${(error as Error).message}`);
      }
    }
    if (addresses.length === 0) throw new EgressRefusedError(`${host} does not resolve to any address`);
    for (const { address } of addresses) {
      const why = this.refusal(address);
      if (why) throw new EgressRefusedError(`${url.origin} is refused by the egress policy: ${why} (executor.egressAllowlist opens it)`);
    }
  }
}

/** What `fetchWithEgress` needs of a request: re-sendable on a redirect (no one-shot streams). */
export interface EgressRequestInit {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Blob | FormData | string;
  readonly signal?: AbortSignal | null;
}

/**
 * `fetch` with the policy applied to the URL and to every redirect hop (redirects are followed
 * here, not by fetch, so no hop goes unchecked). 301/302 turn a POST into a GET and 303 anything
 * into a GET, as fetch does; 307/308 repeat the request with its body.
 */
export async function fetchWithEgress(policy: EgressPolicy, url: string, init: EgressRequestInit = {}): Promise<Response> {
  let current = new URL(url);
  let method = init.method ?? 'GET';
  let body = init.body;
  let headers = init.headers ?? {};
  for (let hop = 0; ; hop++) {
    await policy.check(current);
    const dispatcher = await policy.dispatcherFor(current);
    const response = await fetch(current, {
      method,
      headers,
      ...definedFields({ body, dispatcher }),
      signal: init.signal ?? null,
      redirect: 'manual',
    } as RequestInit);
    const location = response.headers.get('location');
    if (![301, 302, 303, 307, 308].includes(response.status) || location === null) return response;
    await response.body?.cancel();
    if (hop >= MAX_REDIRECTS) throw new EgressRefusedError(`more than ${MAX_REDIRECTS} redirects from ${current.origin}`);
    const next = new URL(location, current);
    // Credentials meant for one origin are not handed to another (fetch does the same).
    if (next.origin !== current.origin)
      headers = Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'));
    current = next;
    if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
      method = method === 'HEAD' ? 'HEAD' : 'GET';
      body = undefined;
    }
  }
}
