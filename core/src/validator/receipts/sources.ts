import type { Metagraph } from '../../contracts/index.js';

/** One miner HTTP server whose receipt pages the validator pulls. */
export interface ReceiptSource {
  /** `host:port`: the key of its checkpoints. */
  readonly endpoint: string;
  /** `http://host:port`; pages are `${baseUrl}/receipts/{page}.jsonl`. */
  readonly baseUrl: string;
  /** Miner hotkeys registered at this endpoint: the only ones its pages may name. */
  readonly hotkeys: ReadonlySet<string>;
}

function hostForUrl(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip;
}

/**
 * The miners to pull receipts from: every neuron serving an axon, other than this validator,
 * grouped by address. A miner process serving several hotkeys has one server and one set of
 * pages for all of them, so it is fetched once and may name any of those hotkeys.
 */
export function receiptSources(metagraph: Metagraph, ownHotkey: string): ReceiptSource[] {
  const byEndpoint = new Map<string, { baseUrl: string; hotkeys: Set<string> }>();
  for (const neuron of metagraph.neurons) {
    const axon = neuron.axon;
    if (axon === null || neuron.hotkey === ownHotkey || axon.port === 0 || axon.ip === '0.0.0.0' || axon.ip === '') continue;
    const host = hostForUrl(axon.ip);
    const endpoint = `${host}:${axon.port}`;
    const entry = byEndpoint.get(endpoint) ?? { baseUrl: `http://${endpoint}`, hotkeys: new Set<string>() };
    entry.hotkeys.add(neuron.hotkey);
    byEndpoint.set(endpoint, entry);
  }
  return [...byEndpoint].map(([endpoint, entry]) => ({ endpoint, baseUrl: entry.baseUrl, hotkeys: entry.hotkeys }));
}
