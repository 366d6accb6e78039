/**
 * Hostile facilitator clients (#11 hole 9 and "smaller"), over real HTTP on both stores: an exact
 * replay of a signed job request inside its 300 s signature window made a duplicate job (201
 * twice); every unauthenticated nonce request wrote a database row; the endpoints anyone may call
 * had no rate limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signJobCreation, signatureToHeaders } from '../../core/src/protocol/sdk-signature.js';
import { DIALECTS, jobBody, startTestFacilitator, type TestFacilitator } from '../../core/src/facilitator/__tests__/harness.js';
import type { Hotkey } from '../../core/src/keys/index.js';

async function rowCount(f: TestFacilitator): Promise<number> {
  const tables = ['facilitator_nonces', 'facilitator_used_once'];
  let total = 0;
  for (const table of tables) total += Number(((await f.store.db(table).count({ n: '*' }))[0] as { n: number | string }).n);
  return total;
}

async function login(f: TestFacilitator, hotkey: Hotkey): Promise<string> {
  const { nonce } = (await (await fetch(`${f.handle.url}/api/v1/auth/nonce`)).json()) as { nonce: string };
  const res = await fetch(`${f.handle.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ hotkey: hotkey.ss58, signature: hotkey.sign(nonce), nonce }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

describe.each(DIALECTS)('facilitator under abuse (store: %s)', (dialect) => {
  let f: TestFacilitator;

  beforeAll(async () => {
    f = await startTestFacilitator({ dialect, listen: true, settings: { unauthenticatedRateLimit: { perSecond: 5, burst: 20 } } });
  });
  afterAll(async () => {
    await f?.close();
  });

  it('refuses an exact replay of a signed job request within the signature window', async () => {
    const token = await login(f, f.alice);
    const body = jobBody(f.validator.ss58);
    const signed = signatureToHeaders(signJobCreation(f.alice, body).signature);
    const send = () =>
      fetch(`${f.handle.url}/api/v1/job-docker/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...signed },
        body: JSON.stringify(body),
      });
    expect((await send()).status).toBe(201);
    const replay = await send();
    expect(replay.status).toBe(409);
    expect(((await replay.json()) as { detail: string }).detail).toMatch(/already accepted/);
    const jobs = (await (await fetch(`${f.handle.url}/api/v1/jobs/`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      count: number;
    };
    expect(jobs.count).toBe(1);
    // A new signature of the same body is a new request.
    const again = await fetch(`${f.handle.url}/api/v1/job-docker/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        ...signatureToHeaders(signJobCreation(f.alice, body, { timestampNs: BigInt(Date.now() + 1) * 1_000_000n }).signature),
      },
      body: JSON.stringify(body),
    });
    expect(again.status).toBe(201);
  });

  it('writes nothing for an unauthenticated nonce request, and a nonce still logs in only once', async () => {
    await new Promise((resolve) => setTimeout(resolve, 4_000)); // let the bucket refill
    const before = await rowCount(f);
    const nonces: string[] = [];
    for (let i = 0; i < 10; i++)
      nonces.push(((await (await fetch(`${f.handle.url}/api/v1/auth/nonce`)).json()) as { nonce: string }).nonce);
    expect(new Set(nonces).size).toBe(10);
    expect(await rowCount(f)).toBe(before);

    const nonce = nonces[0]!;
    const payload = JSON.stringify({ hotkey: f.bob.ss58, signature: f.bob.sign(nonce), nonce });
    const post = () =>
      fetch(`${f.handle.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
    expect((await post()).status).toBe(200);
    expect((await post()).status).toBe(401);
    const tampered = `${nonce.slice(0, 40)}${nonce.slice(40) === '00000000' ? '11111111' : '00000000'}`;
    const forged = JSON.stringify({ hotkey: f.bob.ss58, signature: f.bob.sign(tampered), nonce: tampered });
    expect(
      (await fetch(`${f.handle.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: forged }))
        .status,
    ).toBe(401);
  }, 30_000);

  it('rate-limits the unauthenticated endpoints per address with 429 and Retry-After', async () => {
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 40; i++) {
      const res = await fetch(`${f.handle.url}/api/v1/auth/nonce`);
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
      await res.body?.cancel();
    }
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(20);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  }, 30_000);
});
