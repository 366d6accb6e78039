import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hotkey } from '../keys/index.js';
import { signCheatReport, signJobCreation, signatureToHeaders, signSdkPayload } from '../protocol/sdk-signature.js';
import { DIALECTS, jobBody, startTestFacilitator, type TestFacilitator } from './__tests__/harness.js';

let f: TestFacilitator;

const inject = (options: InjectOptions) => f.handle.app.inject(options);

async function nonce(): Promise<string> {
  const res = await inject({ method: 'GET', url: '/api/v1/auth/nonce' });
  expect(res.statusCode).toBe(200);
  return res.json().nonce as string;
}

/** The SDK's `authenticate()`: sign the nonce's UTF-8 bytes, hex without 0x as bittensor writes it. */
async function login(hotkey: Hotkey): Promise<string> {
  const n = await nonce();
  const res = await inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { hotkey: hotkey.ss58, signature: hotkey.sign(n).slice(2), nonce: n },
  });
  expect(res.statusCode).toBe(200);
  return res.json().token as string;
}

async function createJob(hotkey: Hotkey, token: string, body: Record<string, unknown>, headers?: Record<string, string>) {
  return inject({
    method: 'POST',
    url: '/api/v1/job-docker/',
    headers: { authorization: `Bearer ${token}`, ...(headers ?? signJobCreation(hotkey, body).headers) },
    payload: body,
  });
}

describe.each(DIALECTS)('facilitator HTTP API (store: %s)', (dialect) => {
  beforeAll(async () => {
    f = await startTestFacilitator({ dialect, settings: { bodyLimitBytes: 64 * 1024 } });
  });
  afterAll(async () => {
    await f?.close();
  });

  describe('facilitator login', () => {
    it('gives a whitelisted hotkey a bearer token for a signed nonce, once per nonce', async () => {
      const n = await nonce();
      const payload = { hotkey: f.alice.ss58, signature: f.alice.sign(n), nonce: n };
      const res = await inject({ method: 'POST', url: '/api/v1/auth/login', payload });
      expect(res.statusCode).toBe(200);
      const token = res.json().token as string;
      expect(token.split('.')).toHaveLength(3);
      const jobs = await inject({ method: 'GET', url: '/api/v1/jobs/', headers: { authorization: `Bearer ${token}` } });
      expect(jobs.statusCode).toBe(200);

      const again = await inject({ method: 'POST', url: '/api/v1/auth/login', payload });
      expect(again.statusCode).toBe(401);
      expect(again.json().detail).toMatch(/nonce/);
    });

    it('refuses a nonce it never issued and one past its lifetime', async () => {
      const made = 'f'.repeat(48);
      const res = await inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { hotkey: f.alice.ss58, signature: f.alice.sign(made), nonce: made },
      });
      expect(res.statusCode).toBe(401);

      const n = await nonce();
      f.clock.advance(301_000);
      try {
        const late = await inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { hotkey: f.alice.ss58, signature: f.alice.sign(n), nonce: n },
        });
        expect(late.statusCode).toBe(401);
        expect(late.json().detail).toBe('Invalid or expired nonce');
      } finally {
        f.clock.advance(-301_000);
      }
    });

    it('refuses a signature by another key, and a hotkey that is not whitelisted', async () => {
      const n = await nonce();
      const forged = await inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { hotkey: f.alice.ss58, signature: f.eve.sign(n), nonce: n },
      });
      expect(forged.statusCode).toBe(401);
      expect(forged.json().code).toBe('INVALID_SIGNATURE');

      const m = await nonce();
      const eve = await inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { hotkey: f.eve.ss58, signature: f.eve.sign(m), nonce: m },
      });
      expect(eve.statusCode).toBe(403);
      expect(eve.json().detail).toContain(f.eve.ss58);
    });

    it('says "Token expired" for an old token (the SDK logs in again on that) and refuses garbage tokens', async () => {
      const token = await login(f.alice);
      f.clock.advance(3_601_000);
      try {
        const res = await inject({ method: 'GET', url: '/api/v1/jobs/', headers: { authorization: `Bearer ${token}` } });
        expect(res.statusCode).toBe(401);
        expect(res.json().detail).toBe('Token expired');
      } finally {
        f.clock.advance(-3_601_000);
      }
      const tampered = `${token.slice(0, -4)}AAAA`;
      expect((await inject({ method: 'GET', url: '/api/v1/jobs/', headers: { authorization: `Bearer ${tampered}` } })).statusCode).toBe(
        401,
      );
      expect((await inject({ method: 'GET', url: '/api/v1/jobs/' })).statusCode).toBe(401);
    });
  });

  describe('job creation', () => {
    let token: string;
    beforeAll(async () => {
      token = await login(f.alice);
    });

    it('stores a signed job for its validator with status Sent and its history', async () => {
      const body = jobBody(f.validator.ss58);
      const res = await createJob(f.alice, token, body);
      expect(res.statusCode).toBe(201);
      const job = res.json();
      expect(job).toMatchObject({
        executor_class: 'always_on.test',
        docker_image: 'horde/echo:1',
        args: ['hello', 'world'],
        env: { GREETING: 'hi' },
        status: 'Sent',
        target_validator_hotkey: f.validator.ss58,
        stdout: '',
        volumes: body.volumes,
      });
      expect(job.status_history.map((s: { status: string }) => s.status)).toEqual(['sent']);
      const fetched = await inject({ method: 'GET', url: `/api/v1/jobs/${job.uuid}/`, headers: { authorization: `Bearer ${token}` } });
      expect(fetched.json()).toEqual(job);
      // Without the trailing slash too (the router ignores it).
      expect(
        (await inject({ method: 'GET', url: `/api/v1/jobs/${job.uuid}`, headers: { authorization: `Bearer ${token}` } })).statusCode,
      ).toBe(200);
    });

    it('refuses a body changed after signing (forged X-CH signature)', async () => {
      const body = jobBody(f.validator.ss58);
      const { headers } = signJobCreation(f.alice, body);
      const res = await createJob(f.alice, token, { ...body, docker_image: 'evil/miner:latest' }, headers);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'INVALID_SIGNATURE', detail: expect.stringMatching(/Signature is invalid/) });
    });

    it('refuses a job signed by another hotkey than the logged-in one, an old signature, and one without headers', async () => {
      const body = jobBody(f.validator.ss58);
      const byBob = await createJob(f.alice, token, body, signJobCreation(f.bob, body).headers);
      expect(byBob.statusCode).toBe(403);

      const old = signJobCreation(f.alice, body, { timestampNs: BigInt(Date.now() - 600_000) * 1_000_000n });
      const stale = await createJob(f.alice, token, body, old.headers);
      expect(stale.statusCode).toBe(401);
      expect(stale.json().detail).toMatch(/timestamp/);

      const bare = await inject({
        method: 'POST',
        url: '/api/v1/job-docker/',
        headers: { authorization: `Bearer ${token}` },
        payload: body,
      });
      expect(bare.statusCode).toBe(401);
      expect(bare.json().detail).toMatch(/Signature not found/);
    });

    it('refuses a body over the size limit with 413', async () => {
      const body = jobBody(f.validator.ss58, { env: { BIG: 'x'.repeat(80 * 1024) } });
      const res = await createJob(f.alice, token, body);
      expect(res.statusCode).toBe(413);
      expect(res.json().code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('refuses bad fields, a target that is not an active validator, and volumes the validator could not verify', async () => {
      const bad = jobBody(f.validator.ss58, { execution_time_limit: 'soon' });
      const res = await createJob(f.alice, token, bad);
      expect(res.statusCode).toBe(400);
      expect(res.json().detail).toMatch(/execution_time_limit/);

      const notValidator = await createJob(f.alice, token, jobBody(f.noPermit.ss58));
      expect(notValidator.statusCode).toBe(400);
      expect(notValidator.json().detail).toMatch(/not an active validator/);

      // An inline volume without relative_path: fine for the signature here, but the validator
      // re-derives `relative_path: null` and would refuse it.
      const partial = await createJob(
        f.alice,
        token,
        jobBody(f.validator.ss58, { volumes: [{ volume_type: 'inline', contents: 'UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==' }] }),
      );
      expect(partial.statusCode).toBe(400);
      expect(partial.json().detail).toMatch(/model_dump/);
    });
  });

  describe('job listing', () => {
    it("pages a user's own jobs, newest first, and hides other users' jobs", async () => {
      const bobToken = await login(f.bob);
      const uuids: string[] = [];
      for (const image of ['a:1', 'b:1', 'c:1']) {
        const res = await createJob(f.bob, bobToken, jobBody(f.validator2.ss58, { docker_image: image }));
        expect(res.statusCode).toBe(201);
        uuids.push(res.json().uuid);
        f.clock.advance(5); // distinct creation times
      }
      const auth = { authorization: `Bearer ${bobToken}` };
      const first = (await inject({ method: 'GET', url: '/api/v1/jobs/?page=1&page_size=2', headers: auth })).json();
      expect(first.count).toBe(3);
      expect(first.results.map((j: { docker_image: string }) => j.docker_image)).toEqual(['c:1', 'b:1']);
      expect(first.next).toMatch(/\/api\/v1\/jobs\/\?page=2&page_size=2$/);
      expect(first.previous).toBeNull();
      const second = (await inject({ method: 'GET', url: '/api/v1/jobs/?page=2&page_size=2', headers: auth })).json();
      expect(second.results.map((j: { docker_image: string }) => j.docker_image)).toEqual(['a:1']);
      expect(second.next).toBeNull();
      expect((await inject({ method: 'GET', url: '/api/v1/jobs/?page=3&page_size=2', headers: auth })).statusCode).toBe(404);

      const aliceToken = await login(f.alice);
      const aliceView = await inject({
        method: 'GET',
        url: `/api/v1/jobs/${uuids[0]}/`,
        headers: { authorization: `Bearer ${aliceToken}` },
      });
      expect(aliceView.statusCode).toBe(404);
      const aliceJobs = (
        await inject({ method: 'GET', url: '/api/v1/jobs/?page_size=100', headers: { authorization: `Bearer ${aliceToken}` } })
      ).json();
      expect(aliceJobs.results.some((j: { uuid: string }) => uuids.includes(j.uuid))).toBe(false);
    });
  });

  describe('cheat reports', () => {
    it('accepts a signed report of a completed job against its trusted-miner twin, once', async () => {
      const token = await login(f.alice);
      const job = (await createJob(f.alice, token, jobBody(f.validator.ss58))).json();
      const trusted = (await createJob(f.alice, token, jobBody(f.validator.ss58, { on_trusted_miner: true }))).json();
      const report = { job_uuid: job.uuid, trusted_job_uuid: trusted.uuid, details: { why: 'different stdout' } };
      const post = (headers: Record<string, string>, payload: unknown = report) =>
        inject({
          method: 'POST',
          url: `/api/v1/jobs/${job.uuid}/cheated/`,
          headers: { authorization: `Bearer ${token}`, ...headers },
          payload: payload as Record<string, unknown>,
        });

      // Not completed yet.
      expect((await post(signCheatReport(f.alice, report).headers)).statusCode).toBe(409);
      const completed = { miner_response: { docker_process_stdout: 'x', docker_process_stderr: '' } };
      for (const uuid of [job.uuid, trusted.uuid])
        expect(await f.handle.store.addStatus(f.validator.ss58, uuid, 'completed', completed, Date.now())).toBe('ok');

      // The signature covers the whole body: changing the details breaks it.
      const forged = await post(signCheatReport(f.alice, report).headers, { ...report, details: { why: 'something else' } });
      expect(forged.statusCode).toBe(401);
      // A SignedFields-scoped signature is not a cheat report signature.
      const wrongScope = signatureToHeaders(signSdkPayload(f.alice, JSON.stringify(report), { scope: 'SignedFields' }));
      expect((await post(wrongScope)).statusCode).toBe(401);

      const ok = await post(signCheatReport(f.alice, report).headers);
      expect(ok.statusCode).toBe(201);
      expect(ok.json()).toEqual({ job_uuid: job.uuid, trusted_job_uuid: trusted.uuid, status: 'reported' });
      expect((await post(signCheatReport(f.alice, report).headers)).statusCode).toBe(409);
    });

    it('refuses a report whose "trusted" job did not run on the trusted miner', async () => {
      const token = await login(f.alice);
      const a = (await createJob(f.alice, token, jobBody(f.validator.ss58))).json();
      const b = (await createJob(f.alice, token, jobBody(f.validator.ss58))).json();
      const report = { job_uuid: a.uuid, trusted_job_uuid: b.uuid, details: null };
      const res = await inject({
        method: 'POST',
        url: `/api/v1/jobs/${a.uuid}/cheated/`,
        headers: { authorization: `Bearer ${token}`, ...signCheatReport(f.alice, report).headers },
        payload: report,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().detail).toMatch(/on_trusted_miner/);
    });
  });
});
