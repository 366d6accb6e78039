import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DevnetPreflightError } from './errors.js';
import { freePorts, freePortsIn } from './ports.js';

const held: Server[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

function occupy(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => (held.push(server), resolve()));
  });
}

/** A base port whose next ten ports were free a moment ago (the kernel picked the first). */
async function freeBlock(): Promise<number> {
  for (;;) {
    const [port] = await freePorts(1);
    const base = Math.min(port!, 65_000);
    const ports = await freePortsIn({ from: base, to: base + 9 }, 10).catch(() => null);
    if (ports) return base;
  }
}

describe('freePortsIn', () => {
  it('picks the lowest free ports of the range, skipping taken ones', async () => {
    const base = await freeBlock();
    await occupy(base + 1);
    expect(await freePortsIn({ from: base, to: base + 9 }, 3)).toEqual([base, base + 2, base + 3]);
  });

  it('refuses a range with too few free ports, saying how many it needs', async () => {
    const base = await freeBlock();
    await occupy(base);
    const error = await freePortsIn({ from: base, to: base + 1 }, 2).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DevnetPreflightError);
    expect((error as Error).message).toBe(
      `--ports ${base}-${base + 1} has 1 free port on 127.0.0.1, and the devnet needs 2 (the trusted miner and every miner); give a wider range`,
    );
  });
});
