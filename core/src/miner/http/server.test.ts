import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Counter } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { silentLogger } from '../../logging/index.js';
import { createMetricsRegistry } from '../../metrics/index.js';
import { ReceiptPages } from '../receipts/pages.js';
import { createMinerServer } from './server.js';

describe('miner HTTP routes', () => {
  let dir: string;
  let app: FastifyInstance;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'horde-miner-http-'));
    const metrics = createMetricsRegistry({ defaultMetrics: false });
    new Counter({ name: 'horde_test_total', help: 'test', registers: [metrics] }).inc(3);
    app = await createMinerServer({
      pages: new ReceiptPages(dir, () => Date.now()),
      metrics,
      logger: silentLogger(),
      handlers: {
        onValidator: (socket) => socket.close(),
        onExecutor: (socket) => socket.close(),
        health: () => ({ hotkeys: ['5F...'], executors: { 'always_on.test': { capacity: 1, used: 0 } } }),
      },
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves /healthz with the miner state', async () => {
    const reply = await app.inject({ url: '/healthz' });
    expect(reply.statusCode).toBe(200);
    expect(reply.json()).toEqual({ status: 'ok', hotkeys: ['5F...'], executors: { 'always_on.test': { capacity: 1, used: 0 } } });
  });

  it('serves /metrics in the Prometheus text format', async () => {
    const reply = await app.inject({ url: '/metrics' });
    expect(reply.statusCode).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^text\/plain/);
    expect(reply.body).toContain('horde_test_total 3');
  });

  it('answers 404 for anything else', async () => {
    expect((await app.inject({ url: '/admin/' })).statusCode).toBe(404);
  });
});
