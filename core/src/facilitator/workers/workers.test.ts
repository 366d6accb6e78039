/**
 * Facilitator workers in one test process: three `createFacilitator`s with `workers.enabled` on one
 * real PostgreSQL database (the "several machines" form), validators over real websockets with
 * real sr25519 keys. A job accepted by one worker goes to the validator whose socket is on another
 * and its statuses reach a client of a third; a validator with sockets on two workers gets each job
 * once; the sweep sends what an announcement or a dead worker left; a job past its deadline ends
 * failed once; SQLite is refused with a typed error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalChain } from '../../chain/local/local-chain.js';
import { facilitatorSection } from '../../config/sections/facilitator.js';
import type { Store } from '../../contracts/index.js';
import { loadHotkey, type Hotkey } from '../../keys/index.js';
import { createLogger, silentLogger } from '../../logging/index.js';
import { createFacilitatorAuth } from '../../protocol/facilitator-auth.js';
import type { V2JobRequest } from '../../protocol/facilitator-messages.js';
import { signJobCreation } from '../../protocol/sdk-signature.js';
import { openStore } from '../../store/index.js';
import { pgDatabase, type TestDatabase } from '../../../../test/support/services.js';
import { jobBody, NETUID, ShiftedClock } from '../__tests__/harness.js';
import { ValidatorPeer } from '../__tests__/validator-peer.js';
import { createFacilitator, type FacilitatorHandle } from '../server.js';

const logger = process.env.HORDE_TEST_LOG ? createLogger({ level: 'debug', destination: 'stderr' }) : silentLogger();
const settings = (overrides: Record<string, unknown> = {}) =>
  facilitatorSection.parse({
    host: '127.0.0.1',
    port: 0,
    hotkeyWhitelist: ['*'],
    unauthenticatedRateLimit: { perSecond: 1000, burst: 10_000 },
    workers: { enabled: true, pollSeconds: 0.2, deadlineSlackSeconds: 1 },
    ...overrides,
  });

let db: TestDatabase;
let store: Store;
let chain: LocalChain;
const clock = new ShiftedClock();
let client: Hotkey;
let validator: Hotkey;
let validator2: Hotkey;
const workers: FacilitatorHandle[] = [];
const peers: ValidatorPeer[] = [];
let token: string;

beforeAll(async () => {
  db = await pgDatabase('horde_facw');
  store = await openStore({ client: 'postgres', url: db.url });
  [client, validator, validator2] = await Promise.all(
    ['//FacwClient', '//FacwValidator', '//FacwValidator2'].map((uri) => loadHotkey({ uri })),
  );
  await LocalChain.init(store, { blockTimeMs: 1000, subnets: [{ netuid: NETUID }] });
  chain = await LocalChain.open({ store, netuid: NETUID });
  for (const v of [validator, validator2])
    await chain.ledger.registerNeuron({ netuid: NETUID, hotkey: v.ss58, coldkey: v.ss58, stake: 5000, validatorPermit: true });
  // Each worker has its own store (pool), as separate processes would.
  for (let i = 0; i < 3; i++) {
    const own = await openStore({ client: 'postgres', url: db.url });
    const handle = await createFacilitator({ settings: settings(), store: own, chain, netuid: NETUID, logger, clock, listen: true });
    workers.push({ ...handle, close: async () => (await handle.close(), await own.close()) });
  }
  const nonce = (await workers[0]!.app.inject({ method: 'GET', url: '/api/v1/auth/nonce' })).json().nonce as string;
  token = (
    await workers[0]!.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { hotkey: client.ss58, signature: client.sign(nonce), nonce },
    })
  ).json().token;
}, 60_000);

afterEach(() => {
  for (const p of peers.splice(0)) p.close();
  clock.offsetMs = 0;
});

afterAll(async () => {
  for (const worker of workers) await worker.close().catch(() => undefined);
  await chain?.close();
  await store?.close();
  await db?.drop();
});

async function connect(worker: FacilitatorHandle, hotkey: Hotkey): Promise<ValidatorPeer> {
  const p = await ValidatorPeer.open(worker.url!);
  peers.push(p);
  p.send(createFacilitatorAuth(hotkey));
  expect(await p.next()).toEqual({ status: 'success', errors: [] });
  return p;
}

async function createJob(worker: FacilitatorHandle, body: Record<string, unknown>): Promise<string> {
  const res = await worker.app.inject({
    method: 'POST',
    url: '/api/v1/job-docker/',
    headers: { authorization: `Bearer ${token}`, ...signJobCreation(client, body).headers },
    payload: body,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().uuid as string;
}

async function getJob(worker: FacilitatorHandle, uuid: string) {
  return (await worker.app.inject({ method: 'GET', url: `/api/v1/jobs/${uuid}/`, headers: { authorization: `Bearer ${token}` } })).json();
}

const jobsOf = (p: ValidatorPeer) =>
  p.received.filter((m): m is V2JobRequest => 'message_type' in m && m.message_type === 'V2JobRequest').map((m) => m.uuid);

describe('facilitator workers on one PostgreSQL', () => {
  it('sends a job accepted by worker A to the validator on worker B, and shows its statuses on worker C in order', async () => {
    const [a, b, c] = workers as [FacilitatorHandle, FacilitatorHandle, FacilitatorHandle];
    const onB = await connect(b, validator);
    const uuid = await createJob(a, jobBody(validator.ss58));
    const request = await onB.until((m) => 'message_type' in m && m.message_type === 'V2JobRequest');
    expect(request).toMatchObject({ uuid });
    // `received` twice (the validator's queue flushed again after a reconnect): acknowledged, appended once.
    for (const status of ['received', 'received', 'accepted', 'completed'] as const) {
      onB.send({ message_type: 'V0JobStatusUpdate', uuid, status, metadata: null });
      expect(await onB.next()).toEqual({ status: 'success', errors: [] });
    }
    onB.send({ message_type: 'V0JobStatusUpdate', uuid, status: 'accepted', metadata: null });
    expect(await onB.next()).toMatchObject({ status: 'error', errors: [{ type: 'job_ended' }] });
    const job = await getJob(c, uuid);
    expect(job.status).toBe('Completed');
    expect(job.status_history.map((s: { status: string; seq: number }) => [s.seq, s.status])).toEqual([
      [1, 'sent'],
      [2, 'received'],
      [3, 'accepted'],
      [4, 'completed'],
    ]);
    const stored = await workers[2]!.store.job(uuid);
    expect(stored?.dispatchedBy).toBe(b.workers!.pid);
  });

  it('wakes a client long-polling on worker C when the update is stored on worker B', async () => {
    const [a, b, c] = workers as [FacilitatorHandle, FacilitatorHandle, FacilitatorHandle];
    const onB = await connect(b, validator);
    const uuid = await createJob(a, jobBody(validator.ss58, { args: ['long poll'] }));
    await onB.until((m) => 'uuid' in m && m.uuid === uuid);
    const seen: string[] = [];
    let after = 1;
    const client = (async () => {
      for (;;) {
        const res = await c.app.inject({
          method: 'GET',
          url: `/api/v1/jobs/${uuid}/updates/?after=${after}&wait=20`,
          headers: { authorization: `Bearer ${token}` },
        });
        const body = res.json() as { status: string; updates: Array<{ seq: number; status: string }> };
        for (const update of body.updates) {
          seen.push(`${update.seq}:${update.status}`);
          after = update.seq;
        }
        if (body.status === 'Completed' && body.updates.length === 0) return;
      }
    })();
    for (const status of ['received', 'accepted', 'completed'] as const) {
      onB.send({ message_type: 'V0JobStatusUpdate', uuid, status, metadata: null });
      expect(await onB.next()).toEqual({ status: 'success', errors: [] });
    }
    await client;
    expect(seen).toEqual(['2:received', '3:accepted', '4:completed']);
  });

  it('gives each job once to a validator connected to two workers', async () => {
    const [a, b, c] = workers as [FacilitatorHandle, FacilitatorHandle, FacilitatorHandle];
    const onB = await connect(b, validator2);
    const onC = await connect(c, validator2);
    const uuids = await Promise.all(
      Array.from({ length: 12 }, (_, i) => createJob([a, b, c][i % 3]!, jobBody(validator2.ss58, { args: [`n${i}`] }))),
    );
    await expect.poll(() => jobsOf(onB).length + jobsOf(onC).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(uuids.length);
    // A few sweeps later, still once each.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const sent = [...jobsOf(onB), ...jobsOf(onC)].sort();
    expect(sent).toEqual([...uuids].sort());
  });

  it('sends a job no live worker sent: one whose announcement was lost, one claimed by a dead worker', async () => {
    const [, b] = workers as [FacilitatorHandle, FacilitatorHandle];
    const body = jobBody(validator.ss58);
    const { parse } = await import('../job-model.js').then((m) => ({ parse: (v: unknown) => m.createJobBodySchema.parse(v) }));
    const lost = '00000000-0000-4000-8000-00000000f001';
    const orphan = '00000000-0000-4000-8000-00000000f002';
    const signature = signJobCreation(client, body).signature;
    // Written as a worker would, without its announcement (it died between the two).
    for (const uuid of [lost, orphan])
      await b.store.createJob({ uuid, userHotkey: client.ss58, body: parse(body), signature, createdAt: clock.now() });
    // Claimed by a worker whose PostgreSQL session is gone (no backend has this pid).
    await store.db('facilitator_jobs').where({ uuid: orphan }).update({ dispatched_by: 2_000_000_000, dispatched_at: clock.now() });
    const onB = await connect(b, validator);
    await expect
      .poll(
        () =>
          jobsOf(onB)
            .filter((uuid) => uuid === lost || uuid === orphan)
            .sort(),
        { timeout: 10_000 },
      )
      .toEqual([lost, orphan]);
    expect((await b.store.job(orphan))?.dispatchedBy).toBe(b.workers!.pid);
    for (const uuid of [lost, orphan]) {
      onB.send({ message_type: 'V0JobStatusUpdate', uuid, status: 'completed', metadata: null });
      await onB.until((m) => 'status' in m && m.status === 'success');
    }
  });

  it('ends a job whose validator never answers as failed once its deadline passed, and refuses the late update', async () => {
    const [a, b, c] = workers as [FacilitatorHandle, FacilitatorHandle, FacilitatorHandle];
    const uuid = await createJob(a, jobBody(validator.ss58));
    // Its limits are 25 s in all, the slack 1 s: 30 s on, every worker's sweep sees it overdue.
    clock.advance(30_000);
    await expect.poll(async () => (await getJob(c, uuid)).status, { timeout: 10_000 }).toBe('Failed');
    const job = await getJob(b, uuid);
    const ends = job.status_history.filter((s: { status: string }) => s.status === 'horde_failed');
    expect(ends).toHaveLength(1);
    expect(ends[0].metadata.horde_failure_details).toMatchObject({ reported_by: 'facilitator', reason: 'unhandled_timeout' });
    expect(ends[0].metadata.horde_failure_details.message).toMatch(/no final status from validator/);
    const late = await connect(b, validator);
    late.send({ message_type: 'V0JobStatusUpdate', uuid, status: 'completed', metadata: null });
    expect(await late.until((m) => 'status' in m)).toMatchObject({ status: 'error', errors: [{ type: 'job_ended' }] });
  });

  it('says a worker cannot go on once its own PostgreSQL session is gone (its claims are then a dead worker’s)', async () => {
    const own = await openStore({ client: 'postgres', url: db.url });
    const handle = await createFacilitator({ settings: settings(), store: own, chain, netuid: NETUID, logger, clock, listen: false });
    try {
      await store.db.raw('select pg_terminate_backend(?)', [handle.workers!.pid]);
      await expect(handle.failed).resolves.toMatchObject({ code: 'HORDE_FACILITATOR_WORKERS_SESSION_LOST' });
      expect((await workers[0]!.workers!.alive([handle.workers!.pid])).size).toBe(0);
    } finally {
      await handle.close();
      await own.close();
    }
  });

  it('gives its PostgreSQL session back when it cannot start (its port is taken)', async () => {
    const own = await openStore({ client: 'postgres', url: db.url });
    const taken = settings({ port: workers[0]!.port });
    await expect(
      createFacilitator({ settings: taken, store: own, chain, netuid: NETUID, logger, clock, listen: true }),
    ).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
    // The store closes: no connection was kept out of its pool.
    await own.close();
  });

  it('refuses to run as a worker on SQLite, with a typed error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'horde-facw-sqlite-'));
    const sqlite = await openStore({ client: 'sqlite', filename: join(dir, 'f.sqlite') });
    try {
      await expect(
        createFacilitator({ settings: settings(), store: sqlite, chain, netuid: NETUID, logger, clock, listen: false }),
      ).rejects.toMatchObject({
        code: 'HORDE_FACILITATOR_WORKERS_NEED_POSTGRES',
      });
    } finally {
      await sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
