/**
 * The agent's side of NODE_EXTRA_CA_CERTS deferred (the miner's side: `localAgentEnv` in
 * miner/executor-launch.ts): an agent the miner started on its own machine is given that CA file as
 * HORDE_EXTRA_CA_CERTS, and its HTTPS transfers (`fetchWithEgress`: volumes, uploads) trust node's
 * bundled roots plus the file's certificates, read at its first HTTPS request.
 */
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import { createSecureContext, rootCertificates } from 'node:tls';

/** Where an agent finds the CA file the miner's NODE_EXTRA_CA_CERTS named. */
export const AGENT_EXTRA_CA_ENV = 'HORDE_EXTRA_CA_CERTS';

/** What `fetch` takes as its `dispatcher` (undici's, on node 20's fetch). */
export type FetchDispatcher = object;

// undici is loaded from node_modules when first needed: an agent without HTTPS never loads it (nor
// does the snapshot; see scripts/agent-snapshot.mjs).
const require = createRequire(import.meta.url);
const dispatchers = new Map<string, Promise<FetchDispatcher | undefined>>();

/**
 * A dispatcher for `fetch` that trusts node's bundled roots plus the certificates in `file`, made
 * once per file, with one TLS context for all its connections (an Agent given `ca` would parse
 * every root again per connection). As node does with a NODE_EXTRA_CA_CERTS it cannot read, a
 * file that cannot be read or parsed is warned about (process warning `HORDE_EXTRA_CA_CERTS`) and
 * the bundled roots alone are trusted: undefined, fetch's default.
 */
export function extraCaDispatcher(file: string): Promise<FetchDispatcher | undefined> {
  let dispatcher = dispatchers.get(file);
  if (dispatcher === undefined) {
    dispatcher = readFile(file, 'utf8')
      .then((pem) => {
        const secureContext = createSecureContext({ ca: [...rootCertificates, pem] });
        const { Agent } = require('undici') as typeof import('undici');
        return new Agent({ connect: { secureContext } });
      })
      .catch((error: unknown) => {
        process.emitWarning(`Ignoring extra certs from ${file}, load failed: ${(error as Error).message}`, { code: AGENT_EXTRA_CA_ENV });
        return undefined;
      });
    dispatchers.set(file, dispatcher);
  }
  return dispatcher;
}
