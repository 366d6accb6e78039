/**
 * NODE_EXTRA_CA_CERTS for the executor agents the miner starts on its own machine, without its
 * cost at every start.
 *
 * node 20 reads the NODE_EXTRA_CA_CERTS file, and builds its whole root-certificate store with it,
 * when the process starts, before any script runs: 60–100 ms of every agent start on the benchmark
 * machine (Debian's bundle of ~140 certificates; `node -e 0` 98 ms with it, 37 ms without), a third
 * of a cold job, paid by agents that make no TLS connection at all. Such an agent is given the file
 * as HORDE_EXTRA_CA_CERTS instead, with NODE_EXTRA_CA_CERTS empty (node ignores an empty one), and
 * its HTTPS transfers (`fetchWithEgress`: volumes, uploads) trust node's bundled roots plus that
 * file's certificates, read at its first HTTPS request: what node would have trusted from the start.
 *
 * The variable is passed on untouched when the agent makes a TLS connection of another kind: a
 * `wss://` miner URL, or a Docker engine reached over TCP (DOCKER_HOST, DOCKER_CERT_PATH).
 */
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';

/** Where an agent finds the CA file the miner's NODE_EXTRA_CA_CERTS named. */
export const AGENT_EXTRA_CA_ENV = 'HORDE_EXTRA_CA_CERTS';

/**
 * The environment of an agent started on this machine: `env` (the miner's) with the launch's
 * variables over it, and NODE_EXTRA_CA_CERTS handed on as HORDE_EXTRA_CA_CERTS where only the
 * agent's HTTPS transfers need it (see above).
 */
export function localAgentEnv(launchEnv: Readonly<Record<string, string>>, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const merged: NodeJS.ProcessEnv = { ...env, ...launchEnv };
  const extraCa = merged.NODE_EXTRA_CA_CERTS;
  if (!extraCa || !onlyTransfersUseTls(merged)) return merged;
  return { ...merged, NODE_EXTRA_CA_CERTS: '', [AGENT_EXTRA_CA_ENV]: extraCa };
}

function onlyTransfersUseTls(env: NodeJS.ProcessEnv): boolean {
  const minerUrl = env.MINER_ADDRESS ?? '';
  const dockerHost = env.DOCKER_HOST ?? '';
  return minerUrl.startsWith('ws://') && (dockerHost === '' || dockerHost.startsWith('unix://')) && !env.DOCKER_CERT_PATH;
}

/** What `fetch` takes as its `dispatcher` (undici's, on node 20's fetch). */
export type FetchDispatcher = object;

// undici is loaded from node_modules when first needed: an agent without HTTPS never loads it (nor
// does the snapshot; see scripts/agent-snapshot.mjs).
const require = createRequire(import.meta.url);
const dispatchers = new Map<string, Promise<FetchDispatcher | undefined>>();

/**
 * A dispatcher for `fetch` that trusts node's bundled roots plus the certificates in `file`, made
 * once per file. As node does with a NODE_EXTRA_CA_CERTS it cannot read, a file that cannot be
 * read is warned about (process warning `HORDE_EXTRA_CA_CERTS`) and the bundled roots alone are
 * trusted: undefined, fetch's default.
 */
export function extraCaDispatcher(file: string): Promise<FetchDispatcher | undefined> {
  let dispatcher = dispatchers.get(file);
  if (dispatcher === undefined) {
    dispatcher = readFile(file, 'utf8').then(
      (pem) => {
        const { Agent } = require('undici') as typeof import('undici');
        return new Agent({ connect: { ca: [...rootCertificates, pem] } });
      },
      (error: NodeJS.ErrnoException) => {
        process.emitWarning(`Ignoring extra certs from ${file}, load failed: ${error.message}`, { code: AGENT_EXTRA_CA_ENV });
        return undefined;
      },
    );
    dispatchers.set(file, dispatcher);
  }
  return dispatcher;
}
