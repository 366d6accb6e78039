import { createServer, type Server } from 'node:net';
import { DevnetPreflightError } from './errors.js';
import type { PortRange } from './options.js';

/** Asks the kernel for `count` free TCP ports on 127.0.0.1 (held open together so they differ). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<import('node:net').Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new DevnetPreflightError('no TCP address');
    return address.port;
  });
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  return ports;
}

/** Listens on `port` of 127.0.0.1, or resolves null when it is taken. */
function claim(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/**
 * `count` free ports inside `range`, lowest first (held open together while looking, so they
 * differ); throws `DevnetPreflightError` when the range has fewer free ports than that.
 */
export async function freePortsIn(range: PortRange, count: number): Promise<number[]> {
  const held: Server[] = [];
  const ports: number[] = [];
  try {
    for (let port = range.from; port <= range.to && ports.length < count; port++) {
      const server = await claim(port);
      if (!server) continue;
      held.push(server);
      ports.push(port);
    }
  } finally {
    await Promise.all(held.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
  if (ports.length < count) {
    throw new DevnetPreflightError(
      `--ports ${range.from}-${range.to} has ${ports.length} free port${ports.length === 1 ? '' : 's'} on 127.0.0.1, and the devnet needs ${count} (the trusted miner and every miner); give a wider range`,
    );
  }
  return ports;
}
