import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { VastClient } from './vast-api.js';

// The client's error handling against a scripted HTTP server: each request gets the next answer.
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function scripted(answers: { status: number; body: string; headers?: Record<string, string> }[]) {
  const seen: { method: string; url: string }[] = [];
  const server = createServer((request, response) => {
    seen.push({ method: request.method!, url: request.url! });
    const answer = answers.shift() ?? { status: 500, body: 'script exhausted' };
    response.writeHead(answer.status, { 'Content-Type': 'application/json', ...answer.headers });
    response.end(answer.body);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new VastClient({
    apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    apiKey: 'k',
    requestTimeoutMs: 5_000,
    maxRetries: 2,
    retryBaseMs: 10,
    logger: pino({ level: 'silent' }),
  });
  return { client, seen };
}

describe('VastClient', () => {
  it('retries a 5xx on a request that is safe to repeat', async () => {
    const { client, seen } = await scripted([
      { status: 502, body: '<html>bad gateway</html>' },
      { status: 200, body: JSON.stringify({ instances: null }) },
    ]);
    expect(await client.showInstance(42)).toBeNull();
    expect(seen).toEqual([
      { method: 'GET', url: '/api/v0/instances/42/?owner=me' },
      { method: 'GET', url: '/api/v0/instances/42/?owner=me' },
    ]);
  });

  it('never repeats a rent after a 5xx: it might have rented twice', async () => {
    const { client, seen } = await scripted([
      { status: 503, body: JSON.stringify({ success: false, error: 'unavailable', msg: 'try later' }) },
    ]);
    await expect(
      client.createInstance(7, {
        client_id: 'me',
        image: 'i',
        disk: 10,
        label: 'l',
        runtype: 'ssh',
        onstart: null,
        env: {},
        price: null,
        cancel_unavail: true,
      }),
    ).rejects.toMatchObject({
      code: 'HORDE_VAST_API_ERROR',
      status: 503,
      message: 'renting offer 7: HTTP 503 (unavailable: try later)',
    });
    expect(seen.length).toBe(1);
  });

  it('honours Retry-After on 429', async () => {
    const { client } = await scripted([
      { status: 429, body: '{}', headers: { 'Retry-After': '0.3' } },
      { status: 200, body: JSON.stringify({ success: true }) },
    ]);
    const started = Date.now();
    await client.destroyInstance(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
  });

  it('turns success:false, non-JSON and malformed answers into clear errors', async () => {
    const { client } = await scripted([
      { status: 200, body: JSON.stringify({ success: false, error: 'no_such_instance', msg: 'Instance 9 not found.' }) },
      { status: 200, body: 'not json' },
      { status: 200, body: JSON.stringify({ offers: [{ id: 'x' }] }) },
    ]);
    await expect(client.destroyInstance(9)).rejects.toThrow('destroying instance 9 failed: no_such_instance: Instance 9 not found.');
    await expect(client.showInstance(9)).rejects.toThrow('reading instance 9: the answer is not JSON: not json');
    await expect(client.searchOffers({ filters: {}, order: [], type: 'on-demand' })).rejects.toThrow(/searching offers: unexpected answer/);
  });
});
