/**
 * `horde facilitator --workers 1` × 3 over one real PostgreSQL (the "same command on several
 * machines" form, each on its own port). Validators follow the protocol over real websockets with
 * real sr25519 keys, as ComputeHorde's validator does: they run a job they are sent once (ignore
 * one they run, answer one they ended with its final status), queue updates while away and flush
 * them on reconnect, and reconnect to the next worker (a load balancer's choice) when a socket dies.
 *
 * Clients submit a stream of jobs to workers A and C, and on C both poll every job and stream it
 * (long poll of `/updates/`). The validator's
 * socket is on B; a second validator is offline while B accepts a job for it (an undispatched job
 * of B). Mid-stream, B is killed with SIGKILL. Then: every job answered 201 is final within its
 * deadline, each ran once at its validator, each socket got each job at most once, and every
 * client saw each job's status history grow in order (sequence numbers 1, 2, …), never rewritten,
 * and each stream got every update once, in order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { LocalChain } from '../../core/src/chain/local/local-chain.js';
import type { Store } from '../../core/src/contracts/index.js';
import { loadHotkey, type Hotkey } from '../../core/src/keys/index.js';
import { encodeMessage, parseFacilitatorToValidator } from '../../core/src/protocol/codec.js';
import { createFacilitatorAuth } from '../../core/src/protocol/facilitator-auth.js';
import type { JobStatus } from '../../core/src/protocol/enums.js';
import type { ValidatorToFacilitatorMessage } from '../../core/src/protocol/facilitator-messages.js';
import { signJobCreation, signatureToHeaders } from '../../core/src/protocol/sdk-signature.js';
import { openStore } from '../../core/src/store/index.js';
import { jobBody } from '../../core/src/facilitator/__tests__/harness.js';
import { requireBuiltCli } from '../support/miner-harness.js';
import { pgDatabase, type TestDatabase } from '../support/services.js';
import { freePort } from './cli-process.js';
import { processAlive, waitUntil } from './processes.js';

const CLI = fileURLToPath(new URL('../../core/bin/horde.js', import.meta.url));
const NETUID = 12;
const JOBS = 18;
/** How long the validators' "miner" takes per job: kills land while jobs run. */
const RUN_MS = 2_500;
/** The jobs' time limits (25 s) plus the facilitator's slack: every job is final by then. */
const DEADLINE_MS = 25_000 + 5_000;
const PROTOCOL_ORDER: readonly JobStatus[] = ['sent', 'received', 'accepted', 'completed'];

/** A validator's end of `/ws/v0/`, behaving as ComputeHorde's validator does towards the facilitator. */
class ProtocolValidator {
  /** Jobs run (at the "miner"), by uuid: more than one would be a job run twice. */
  readonly runs = new Map<string, number>();
  /** `V2JobRequest`s each socket got, by socket number. */
  readonly requestsBySocket: Array<Map<string, number>> = [];
  /** Jobs it finished (its final status said). */
  readonly ended = new Set<string>();
  private readonly queue: ValidatorToFacilitatorMessage[] = [];
  private socket: WebSocket | null = null;
  private ready = false;
  private stopped = false;
  private next = 0;
  sockets = 0;

  constructor(
    readonly hotkey: Hotkey,
    /** Where it connects, in turn (the first one first). */
    private readonly urls: () => string[],
  ) {}

  start(): void {
    const urls = this.urls();
    const url = urls[this.next++ % urls.length]!;
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws/v0/`);
    this.socket = socket;
    const requests = new Map<string, number>();
    socket.on('open', () => socket.send(encodeMessage(createFacilitatorAuth(this.hotkey))));
    socket.on('message', (data) => {
      const parsed = parseFacilitatorToValidator(data.toString());
      if (!parsed.ok) return;
      const message = parsed.message;
      if ('status' in message && !this.ready) {
        if (message.status !== 'success') return;
        this.ready = true;
        this.sockets++;
        this.requestsBySocket.push(requests);
        for (const queued of this.queue.splice(0)) socket.send(encodeMessage(queued));
        return;
      }
      if (!('message_type' in message) || message.message_type !== 'V2JobRequest') return;
      requests.set(message.uuid, (requests.get(message.uuid) ?? 0) + 1);
      const uuid = message.uuid;
      if (this.ended.has(uuid)) {
        // Sent again after it ended here: answer with its final status (it may have been lost).
        this.say({ message_type: 'V0JobStatusUpdate', uuid, status: 'completed', metadata: null });
        return;
      }
      if (this.runs.has(uuid)) return; // running: ignored
      this.runs.set(uuid, 1);
      this.say({ message_type: 'V0JobStatusUpdate', uuid, status: 'received', metadata: null });
      setTimeout(() => this.say({ message_type: 'V0JobStatusUpdate', uuid, status: 'accepted', metadata: null }), 200);
      setTimeout(() => {
        this.ended.add(uuid);
        this.say({
          message_type: 'V0JobStatusUpdate',
          uuid,
          status: 'completed',
          metadata: {
            miner_response: {
              job_uuid: uuid,
              message_type: 'V0JobFinishedRequest',
              docker_process_stdout: `ran ${uuid}`,
              docker_process_stderr: '',
              artifacts: {},
              upload_results: {},
            },
          },
        });
      }, RUN_MS);
    });
    const reconnect = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.ready = false;
      if (!this.stopped) setTimeout(() => this.start(), 300);
    };
    socket.on('close', reconnect);
    socket.on('error', () => socket.terminate());
  }

  /** Sends now when authenticated, else queues for the next connection (as the validator's client does). */
  private say(message: ValidatorToFacilitatorMessage): void {
    if (this.ready && this.socket?.readyState === WebSocket.OPEN) this.socket.send(encodeMessage(message));
    else this.queue.push(message);
  }

  stop(): void {
    this.stopped = true;
    this.socket?.terminate();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'horde-facilitator-workers-'));
let db: TestDatabase;
let store: Store;
let client: Hotkey;
let validator: Hotkey;
let offline: Hotkey;
const procs: Array<{ child: ChildProcess; output: string[]; url: string }> = [];
const validators: ProtocolValidator[] = [];

async function startWorker(): Promise<{ child: ChildProcess; output: string[]; url: string }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [CLI, 'facilitator', '--config', join(dir, 'config.json'), '--workers', '1', '--port', String(port)],
    {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const proc = { child, output, url: `http://127.0.0.1:${port}` };
  procs.push(proc);
  await waitUntil(
    `facilitator worker on ${port} listens`,
    () => {
      if (child.exitCode !== null) throw new Error(`facilitator worker exited: ${output.join('')}`);
      return output.join('').includes('"facilitator listening"') && output.join('').includes('facilitator worker joined the pool');
    },
    30_000,
  );
  return proc;
}

beforeAll(async () => {
  requireBuiltCli();
  db = await pgDatabase('horde_facw_kill');
  store = await openStore({ client: 'postgres', url: db.url });
  [client, validator, offline] = await Promise.all(
    ['//FacwKillClient', '//FacwKillValidator', '//FacwKillOffline'].map((uri) => loadHotkey({ uri })),
  );
  await LocalChain.init(store, { blockTimeMs: 1000, subnets: [{ netuid: NETUID }] });
  const admin = await LocalChain.open({ store, netuid: NETUID });
  for (const v of [validator, offline])
    await admin.ledger.registerNeuron({ netuid: NETUID, hotkey: v.ss58, coldkey: v.ss58, stake: 5000, validatorPermit: true });
  await admin.close();
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      role: 'facilitator',
      dataDir: dir,
      store: { client: 'postgres', url: db.url },
      chain: { network: 'local', netuid: NETUID },
      facilitator: {
        host: '127.0.0.1',
        hotkeyWhitelist: ['*'],
        unauthenticatedRateLimit: { perSecond: 1000, burst: 10_000 },
        workers: { pollSeconds: 0.5, deadlineSlackSeconds: 5 },
      },
      plugins: [],
      log: { level: process.env['HORDE_TEST_LOG_LEVEL'] ?? 'info', pretty: false },
    }),
  );
}, 60_000);

afterAll(async () => {
  for (const v of validators) v.stop();
  for (const { child } of procs) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await store?.close();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

async function login(url: string): Promise<string> {
  const { nonce } = (await (await fetch(`${url}/api/v1/auth/nonce`)).json()) as { nonce: string };
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ hotkey: client.ss58, signature: client.sign(nonce), nonce }),
  });
  return ((await res.json()) as { token: string }).token;
}

async function submit(url: string, token: string, body: Record<string, unknown>): Promise<string | null> {
  const res = await fetch(`${url}/api/v1/job-docker/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      ...signatureToHeaders(signJobCreation(client, body).signature),
    },
    body: JSON.stringify(body),
  });
  // A worker killed mid-request answers nothing: the job was not accepted (the client retries anew).
  return res.status === 201 ? ((await res.json()) as { uuid: string }).uuid : null;
}

interface Seen {
  status: string;
  status_history: Array<{ seq: number; status: JobStatus; metadata: unknown }>;
}

describe('facilitator workers on PostgreSQL', () => {
  it('loses no accepted job, runs none twice and keeps every status history in order when a worker is killed -9 mid-stream', async () => {
    onTestFailed(() => {
      for (const [i, proc] of procs.entries())
        console.error(`--- facilitator worker ${i} (pid ${proc.child.pid}) ---\n${proc.output.join('').split('\n').slice(-40).join('\n')}`);
    });
    const [a, b, c] = [await startWorker(), await startWorker(), await startWorker()];
    const [tokenA, tokenB, tokenC] = [await login(a.url), await login(b.url), await login(c.url)];
    // The validator's socket is on B; when it dies it goes to C, then A.
    const relay = new ProtocolValidator(validator, () => [b.url, c.url, a.url]);
    validators.push(relay);
    relay.start();
    await waitUntil('the validator is connected to B', () => relay.sockets === 1, 10_000);

    // C polls every accepted job and checks each poll extends the history it saw before.
    const accepted: string[] = [];
    const seen = new Map<string, Seen[]>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        for (const uuid of [...accepted]) {
          const res = await fetch(`${c.url}/api/v1/jobs/${uuid}/`, { headers: { authorization: `Bearer ${tokenC}` } }).catch(() => null);
          if (res?.status === 200) seen.set(uuid, [...(seen.get(uuid) ?? []), (await res.json()) as Seen]);
        }
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    })();

    // C also streams every accepted job (long poll of /updates/), from its first update to its end.
    const streamed = new Map<string, string[]>();
    const streams: Array<Promise<void>> = [];
    const follow = (uuid: string) => {
      const entries: string[] = [];
      streamed.set(uuid, entries);
      let after = 0;
      streams.push(
        (async () => {
          for (;;) {
            const res = await fetch(`${c.url}/api/v1/jobs/${uuid}/updates/?after=${after}&wait=20`, {
              headers: { authorization: `Bearer ${tokenC}` },
            });
            const body = (await res.json()) as { status: string; updates: Array<{ seq: number; status: string }> };
            for (const update of body.updates) {
              entries.push(`${update.seq}:${update.status}`);
              after = update.seq;
            }
            if (body.status !== 'Sent' && body.status !== 'Received' && body.status !== 'Accepted' && body.updates.length === 0) return;
          }
        })(),
      );
    };
    const accept = (uuid: string) => {
      accepted.push(uuid);
      follow(uuid);
    };

    // B accepts a job for a validator that is offline: it waits, undispatched, in B's hands.
    const forOffline = await submit(b.url, tokenB, jobBody(offline.ss58, { args: ['offline'] }));
    expect(forOffline).not.toBeNull();
    accept(forOffline!);

    let killedAt = 0;
    let inFlightAtKill = 0;
    for (let i = 0; i < JOBS; i++) {
      const [url, token] = i % 2 === 0 ? [a.url, tokenA] : [c.url, tokenC];
      const uuid = await submit(url, token, jobBody(validator.ss58, { args: [`job ${i}`] }));
      expect(uuid, `job ${i} on a live worker`).not.toBeNull();
      accept(uuid!);
      if (i === JOBS / 2) {
        // Jobs are running at the validator through B's socket, and B just accepted one more.
        const last = await submit(b.url, tokenB, jobBody(validator.ss58, { args: ['last on B'] }));
        if (last) accept(last);
        inFlightAtKill = relay.runs.size - relay.ended.size;
        b.child.kill('SIGKILL');
        killedAt = Date.now();
        await waitUntil('B is gone', () => !processAlive(b.child.pid!), 5_000);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(killedAt).toBeGreaterThan(0);
    // Mid-stream: jobs were running at the validator through B's socket when B died.
    expect(inFlightAtKill).toBeGreaterThan(0);

    // The offline validator comes up after the kill, on C.
    const late = new ProtocolValidator(offline, () => [c.url, a.url]);
    validators.push(late);
    late.start();

    await waitUntil(
      'every accepted job is final',
      async () =>
        (await store.db('facilitator_jobs').whereIn('uuid', accepted).whereIn('status', ['sent', 'received', 'accepted'])).length === 0,
      DEADLINE_MS + 15_000,
    );
    polling = false;
    await poller;
    await Promise.all(streams);

    const rows = await store.db('facilitator_jobs').whereIn('uuid', accepted);
    expect(rows).toHaveLength(accepted.length);
    for (const row of rows) {
      // Final by its deadline: completed by its validator, or failed by the facilitator with a reason.
      expect(['completed', 'horde_failed'], row.uuid).toContain(row.status);
      expect(Number(row.updated_at) - Number(row.created_at), row.uuid).toBeLessThanOrEqual(DEADLINE_MS + 2_000);
    }
    // The validator came back through another worker and answered: nothing was left to the deadline.
    expect(rows.filter((row) => row.status === 'completed').length).toBe(accepted.length);
    expect(relay.sockets).toBeGreaterThanOrEqual(2);

    // Ran once each at its validator, and no socket got one job twice.
    for (const uuid of accepted) expect((relay.runs.get(uuid) ?? 0) + (late.runs.get(uuid) ?? 0), uuid).toBe(1);
    for (const perSocket of [...relay.requestsBySocket, ...late.requestsBySocket])
      for (const [uuid, count] of perSocket) expect(count, `${uuid} on one socket`).toBe(1);

    // The stored history: sequence 1, 2, … in protocol order, no status twice.
    for (const uuid of accepted) {
      const history = await store.db('facilitator_job_statuses').where({ job_uuid: uuid }).orderBy('seq');
      expect(history.map((h) => Number(h.seq))).toEqual(history.map((_, i) => i + 1));
      // An update the validator sent on B's socket as B died is lost (as with the real validator's
      // client): the history may skip a step, never repeat or reorder one.
      const statuses = history.map((h) => h.status as JobStatus);
      expect(statuses[0]).toBe('sent');
      expect(statuses.at(-1)).toBe('completed');
      expect(statuses, uuid).toEqual(PROTOCOL_ORDER.filter((status) => statuses.includes(status)));
      // What C's client saw: each poll a prefix of the final history (in order, never rewritten).
      const finalSeqs = history.map((h) => `${h.seq}:${h.status}`);
      for (const poll of seen.get(uuid) ?? []) {
        const seqs = poll.status_history.map((h) => `${h.seq}:${h.status}`);
        expect(finalSeqs.slice(0, seqs.length), uuid).toEqual(seqs);
      }
      // C's stream got every update once, in order, from the first to the end.
      expect(streamed.get(uuid), `${uuid} streamed`).toEqual(finalSeqs);
      // And C's client, asked now, reads the final history.
      const res = await fetch(`${c.url}/api/v1/jobs/${uuid}/`, { headers: { authorization: `Bearer ${tokenC}` } });
      const job = (await res.json()) as Seen;
      expect(job.status, uuid).toBe('Completed');
      expect(job.status_history.map((h) => `${h.seq}:${h.status}`)).toEqual(finalSeqs);
    }
    // The client on C saw every job end (its last poll), and the survivors said what they did.
    const survivors = [a, c].map((p) => p.output.join('')).join('');
    expect(survivors).toContain('job sent to validator');
  }, 180_000);
});
