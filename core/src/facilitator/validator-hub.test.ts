import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Hotkey } from '../keys/index.js';
import { createFacilitatorAuth } from '../protocol/facilitator-auth.js';
import { signCheatReport, signJobCreation, verifyCheatReport, verifyJobRequestSignature } from '../protocol/sdk-signature.js';
import { jobBody, startTestFacilitator, type TestFacilitator } from './__tests__/harness.js';
import { ValidatorPeer } from './__tests__/validator-peer.js';
import { CLOSE_INVALID_SIGNATURE, CLOSE_NOT_A_VALIDATOR, CLOSE_POLICY } from './validator-hub.js';

let f: TestFacilitator;
const peers: ValidatorPeer[] = [];
let token: string;

async function peer(): Promise<ValidatorPeer> {
  const p = await ValidatorPeer.open(f.handle.url!);
  peers.push(p);
  return p;
}

async function authenticated(hotkey: Hotkey): Promise<ValidatorPeer> {
  const p = await peer();
  p.send(createFacilitatorAuth(hotkey));
  expect(await p.next()).toEqual({ status: 'success', errors: [] });
  return p;
}

async function createJob(body: Record<string, unknown>): Promise<string> {
  const res = await f.handle.app.inject({
    method: 'POST',
    url: '/api/v1/job-docker/',
    headers: { authorization: `Bearer ${token}`, ...signJobCreation(f.alice, body).headers },
    payload: body,
  });
  expect(res.statusCode).toBe(201);
  return res.json().uuid as string;
}

async function getJob(uuid: string) {
  return (await f.handle.app.inject({ method: 'GET', url: `/api/v1/jobs/${uuid}/`, headers: { authorization: `Bearer ${token}` } })).json();
}

beforeAll(async () => {
  f = await startTestFacilitator({ listen: true });
  const nonce = (await f.handle.app.inject({ method: 'GET', url: '/api/v1/auth/nonce' })).json().nonce as string;
  token = (
    await f.handle.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { hotkey: f.alice.ss58, signature: f.alice.sign(nonce), nonce },
    })
  ).json().token;
});
afterEach(() => {
  for (const p of peers.splice(0)) p.close();
  f.clock.offsetMs = 0;
});
afterAll(async () => {
  await f?.close();
});

describe('validator authentication', () => {
  it('accepts an active validator that signs its own public key', async () => {
    await authenticated(f.validator);
    const health = (await f.handle.app.inject({ method: 'GET', url: '/healthz' })).json();
    expect(health.validators).toEqual([expect.objectContaining({ hotkey: f.validator.ss58, live: true })]);
  });

  it('closes with 3000 when the signature is not by the key it names', async () => {
    const p = await peer();
    p.send({ ...createFacilitatorAuth(f.validator), signature: f.eve.sign(f.validator.publicKey) });
    const reply = await p.next();
    expect(reply).toMatchObject({ status: 'error', errors: [{ msg: 'Invalid signature' }] });
    expect(await p.closed()).toBe(CLOSE_INVALID_SIGNATURE);
  });

  it('closes with 3001 for a hotkey without a validator permit, and for one not on the subnet', async () => {
    for (const hotkey of [f.noPermit, f.eve]) {
      const p = await peer();
      p.send(createFacilitatorAuth(hotkey));
      const reply = await p.next();
      expect(reply).toMatchObject({ status: 'error', errors: [{ msg: expect.stringMatching(/not an active validator/) }] });
      expect(await p.closed()).toBe(CLOSE_NOT_A_VALIDATOR);
    }
  });

  it('closes a connection whose first message is not the authentication', async () => {
    const p = await peer();
    p.send({ message_type: 'V0Heartbeat' });
    expect(await p.next()).toMatchObject({ status: 'error' });
    expect(await p.closed()).toBe(CLOSE_POLICY);
  });
});

describe('job flow over the websocket', () => {
  it("pushes a job to its live validator with the user's signature intact, and stores the statuses it reports", async () => {
    const v = await authenticated(f.validator);
    const uuid = await createJob(jobBody(f.validator.ss58));
    const request = await v.next();
    expect(request).toMatchObject({ message_type: 'V2JobRequest', uuid, docker_image: 'horde/echo:1', args: ['hello', 'world'] });
    if (!('message_type' in request) || request.message_type !== 'V2JobRequest') throw new Error('expected a job');
    // The validator re-derives the signed fields from the message: the user's signature holds.
    expect(await verifyJobRequestSignature(request)).toEqual({ ok: true, signatory: f.alice.ss58 });

    v.send({ message_type: 'V0JobStatusUpdate', uuid, status: 'received' });
    expect(await v.next()).toEqual({ status: 'success', errors: [] });
    v.send({ message_type: 'V0JobStatusUpdate', uuid, status: 'accepted' });
    await v.next();
    v.send({
      message_type: 'V0JobStatusUpdate',
      uuid,
      status: 'completed',
      metadata: {
        miner_response: {
          docker_process_stdout: 'hello world\n',
          docker_process_stderr: '',
          artifacts: { '/artifacts/a.txt': 'aGk=' },
          upload_results: {},
        },
      },
    });
    await v.next();
    const job = await getJob(uuid);
    expect(job).toMatchObject({ status: 'Completed', stdout: 'hello world\n', artifacts: { '/artifacts/a.txt': 'aGk=' } });
    expect(job.status_history.map((s: { status: string }) => s.status)).toEqual(['sent', 'received', 'accepted', 'completed']);

    // After the end no more updates are taken, and unknown jobs are refused.
    v.send({ message_type: 'V0JobStatusUpdate', uuid, status: 'failed' });
    expect(await v.next()).toMatchObject({ status: 'error', errors: [{ type: 'job_ended' }] });
    v.send({ message_type: 'V0JobStatusUpdate', uuid: 'no-such-job', status: 'received' });
    expect(await v.next()).toMatchObject({ status: 'error', errors: [{ type: 'unknown_job' }] });
  });

  it('answers a long poll of /updates/ with the next numbered status once the validator reports it', async () => {
    const v = await authenticated(f.validator);
    await v.drain();
    const uuid = await createJob(jobBody(f.validator.ss58, { docker_image: 'poll:1' }));
    await v.until((m) => 'uuid' in m && m.uuid === uuid);
    const updates = (after: number, wait: number) =>
      f.handle.app.inject({
        method: 'GET',
        url: `/api/v1/jobs/${uuid}/updates/?after=${after}&wait=${wait}`,
        headers: { authorization: `Bearer ${token}` },
      });
    let settled = false;
    const poll = updates(1, 20).then((res) => ((settled = true), res));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(settled).toBe(false);
    v.send({ message_type: 'V0JobStatusUpdate', uuid, status: 'received', metadata: null });
    expect(await v.next()).toMatchObject({ status: 'success' });
    expect((await poll).json()).toMatchObject({ uuid, status: 'Received', updates: [{ seq: 2, status: 'received' }] });
    expect((await updates(2, 0)).json()).toEqual({ uuid, status: 'Received', updates: [] });
    v.send({ message_type: 'V0JobStatusUpdate', uuid, status: 'completed', metadata: null });
    expect(await v.next()).toMatchObject({ status: 'success' });
    // An ended job is answered at once: its last updates, then nothing more to wait for.
    expect((await updates(2, 20)).json()).toMatchObject({ status: 'Completed', updates: [{ seq: 3, status: 'completed' }] });
    expect((await updates(3, 20)).json()).toEqual({ uuid, status: 'Completed', updates: [] });
    const other = await f.handle.app.inject({
      method: 'GET',
      url: `/api/v1/jobs/${uuid}/updates/?wait=99`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(other.statusCode).toBe(400);
  });

  it("refuses status updates for another validator's job", async () => {
    const uuid = await createJob(jobBody(f.validator.ss58));
    const other = await authenticated(f.validator2);
    other.send({ message_type: 'V0JobStatusUpdate', uuid, status: 'received' });
    expect(await other.next()).toMatchObject({ status: 'error', errors: [{ type: 'unknown_job' }] });
    expect((await getJob(uuid)).status).toBe('Sent');
  });

  it('queues jobs while the validator is offline and delivers them when it connects', async () => {
    const first = await createJob(jobBody(f.validator2.ss58, { docker_image: 'queued:1' }));
    const second = await createJob(jobBody(f.validator2.ss58, { docker_image: 'queued:2' }));
    const v = await authenticated(f.validator2);
    const delivered = [await v.next(), await v.next()].map((m) => ('uuid' in m ? m.uuid : null));
    expect(delivered).toEqual(expect.arrayContaining([first, second]));
  });

  it('holds jobs for a validator silent for 3 minutes and sends them when its heartbeat resumes', async () => {
    const v = await authenticated(f.validator);
    // Earlier tests' jobs this validator never acknowledged are delivered again on connect.
    await v.drain();
    f.clock.advance(181_000);
    const uuid = await createJob(jobBody(f.validator.ss58, { docker_image: 'late:1' }));
    expect(await v.quiet(300)).toBe(true);
    v.send({ message_type: 'V0Heartbeat' });
    expect(await v.until((m) => 'uuid' in m && m.uuid === uuid)).toMatchObject({ message_type: 'V2JobRequest', docker_image: 'late:1' });
  });

  it('never sends one job twice on one socket, even when its heartbeat resumes after a silence', async () => {
    const v = await authenticated(f.validator);
    await v.drain();
    const uuid = await createJob(jobBody(f.validator.ss58, { docker_image: 'once:1' }));
    await v.until((m) => 'uuid' in m && m.uuid === uuid);
    f.clock.advance(181_000);
    v.send({ message_type: 'V0Heartbeat' });
    // The resync finds nothing this socket has not had: no job comes again.
    expect(await v.quiet(500)).toBe(true);
  });

  it('relays a cheat report to the validator with a signature it can verify', async () => {
    const v = await authenticated(f.validator2);
    await v.drain();
    const job = await createJob(jobBody(f.validator2.ss58));
    const trusted = await createJob(jobBody(f.validator2.ss58, { on_trusted_miner: true }));
    await v.until((m) => 'uuid' in m && m.uuid === job);
    await v.until((m) => 'uuid' in m && m.uuid === trusted);
    for (const uuid of [job, trusted]) {
      v.send({
        message_type: 'V0JobStatusUpdate',
        uuid,
        status: 'completed',
        metadata: { miner_response: { docker_process_stdout: uuid, docker_process_stderr: '' } },
      });
      expect(await v.next()).toMatchObject({ status: 'success' });
    }
    const report = { job_uuid: job, trusted_job_uuid: trusted, details: { stdout: 'differs' } };
    const res = await f.handle.app.inject({
      method: 'POST',
      url: `/api/v1/jobs/${job}/cheated/`,
      headers: { authorization: `Bearer ${token}`, ...signCheatReport(f.alice, report).headers },
      payload: report,
    });
    expect(res.statusCode).toBe(201);
    const cheated = await v.next();
    expect(cheated).toMatchObject({
      message_type: 'V0JobCheated',
      job_uuid: job,
      trusted_job_uuid: trusted,
      details: { stdout: 'differs' },
    });
    if (!('message_type' in cheated) || cheated.message_type !== 'V0JobCheated') throw new Error('expected a cheat report');
    expect(await verifyCheatReport(cheated, cheated.signature!)).toEqual({ ok: true, signatory: f.alice.ss58 });
  });

  it('keeps cheat reports for a validator that is offline and delivers them when it connects', async () => {
    // Two completed jobs of validator2 (their statuses stored as its connection would).
    const job = await createJob(jobBody(f.validator2.ss58, { docker_image: 'offline:1' }));
    const trusted = await createJob(jobBody(f.validator2.ss58, { docker_image: 'offline:1', on_trusted_miner: true }));
    for (const uuid of [job, trusted]) await f.handle.store.addStatus(f.validator2.ss58, uuid, 'completed', null, Date.now());
    expect(f.handle.hub.isLive(f.validator2.ss58)).toBe(false);
    const report = { job_uuid: job, trusted_job_uuid: trusted, details: null };
    const res = await f.handle.app.inject({
      method: 'POST',
      url: `/api/v1/jobs/${job}/cheated/`,
      headers: { authorization: `Bearer ${token}`, ...signCheatReport(f.alice, report).headers },
      payload: report,
    });
    expect(res.statusCode).toBe(201);
    const v = await authenticated(f.validator2);
    expect(await v.until((m) => 'message_type' in m && m.message_type === 'V0JobCheated')).toMatchObject({
      job_uuid: job,
      trusted_job_uuid: trusted,
    });
  });

  it('stores the machine specs a validator relays for its miners, and only as itself', async () => {
    const v = await authenticated(f.validator);
    await v.drain();
    v.send({
      message_type: 'V0MachineSpecsUpdate',
      miner_hotkey: 'miner-1',
      validator_hotkey: f.validator.ss58,
      specs: { gpu: { count: 1 } },
      batch_id: 'job-1',
    });
    expect(await v.until((m) => !('message_type' in m))).toEqual({ status: 'success', errors: [] });
    v.send({
      message_type: 'V0MachineSpecsUpdate',
      miner_hotkey: 'miner-1',
      validator_hotkey: f.validator2.ss58,
      specs: {},
      batch_id: 'job-2',
    });
    expect(await v.until((m) => !('message_type' in m))).toMatchObject({ status: 'error', errors: [{ type: 'forbidden' }] });
    expect(await f.handle.store.machineSpecs('miner-1')).toEqual([
      expect.objectContaining({ validatorHotkey: f.validator.ss58, specs: { gpu: { count: 1 } }, batchId: 'job-1' }),
    ]);
  });
});
