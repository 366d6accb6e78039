// Readiness probes for the test services. Used by start.sh (as a CLI) and by the vitest global
// setup (as a module), so "is it up?" means the same thing in both places.
//
//   node test/services/probe.mjs docker unix:///tmp/hd/docker.sock
//   node test/services/probe.mjs s3 http://127.0.0.1:54321
//   node test/services/probe.mjs pg postgres://postgres@127.0.0.1:55432/postgres
//   node test/services/probe.mjs tcp 127.0.0.1 55022
// Exit code 0 when the service answers, 1 (with the reason on stderr) when it does not.
import http from 'node:http';
import net from 'node:net';
import { pathToFileURL } from 'node:url';

const TIMEOUT_MS = 2000;

/** GET a path over HTTP or a unix socket; resolves with the status code. */
function httpGet(options) {
  return new Promise((resolve, reject) => {
    const req = http.get({ ...options, timeout: TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

/** Docker engine: `GET /_ping` answers 200 "OK". `dockerHost` is `unix:///path` or a socket path. */
export async function probeDocker(dockerHost) {
  const socketPath = dockerHost.replace(/^unix:\/\//, '');
  const status = await httpGet({ socketPath, path: '/_ping' });
  if (status !== 200) throw new Error(`docker /_ping answered HTTP ${status}`);
}

/** S3 server: any HTTP answer from the root (s3rver lists buckets, or 403s an unsigned request). */
export async function probeS3(endpoint) {
  const url = new URL(endpoint);
  const status = await httpGet({ host: url.hostname, port: url.port, path: '/' });
  if (status === 0 || status >= 500) throw new Error(`S3 server answered HTTP ${status}`);
}

/** PostgreSQL: connect and run `select 1`. */
export async function probePg(url) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: TIMEOUT_MS });
  try {
    await client.connect();
    await client.query('select 1');
  } finally {
    await client.end().catch(() => {});
  }
}

/** Any TCP listener (sshd). */
export function probeTcp(host, port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port: Number(port), timeout: TIMEOUT_MS });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => socket.destroy(new Error('timed out')));
    socket.once('error', reject);
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [kind, ...args] = process.argv.slice(2);
  const probes = { docker: probeDocker, s3: probeS3, pg: probePg, tcp: probeTcp };
  const probe = probes[kind];
  if (!probe) {
    console.error(`usage: probe.mjs docker|s3|pg|tcp ARGS (got ${kind})`);
    process.exit(2);
  }
  probe(...args).then(
    () => process.exit(0),
    (error) => {
      console.error(`${kind} probe failed: ${error.message}`);
      process.exit(1);
    },
  );
}
