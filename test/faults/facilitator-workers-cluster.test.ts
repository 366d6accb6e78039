/**
 * `horde facilitator --workers 3` on one machine: three worker processes sharing one port (Node's
 * cluster module; the supervisor holds the socket) and one real PostgreSQL. The worker holding the
 * validator's websocket is killed with SIGKILL: the validator reconnects to the same address and
 * lands on a live worker, the supervisor starts the dead one again, and jobs accepted before and
 * after the kill end completed. With SQLite, `--workers 2` refuses with its typed error.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { LocalChain } from '../../core/src/chain/local/local-chain.js';
import type { Store } from '../../core/src/contracts/index.js';
import { loadHotkey, type Hotkey } from '../../core/src/keys/index.js';
import { createFacilitatorAuth } from '../../core/src/protocol/facilitator-auth.js';
import type { V2JobRequest } from '../../core/src/protocol/facilitator-messages.js';
import { signJobCreation, signatureToHeaders } from '../../core/src/protocol/sdk-signature.js';
import { openStore } from '../../core/src/store/index.js';
import { jobBody } from '../../core/src/facilitator/__tests__/harness.js';
import { ValidatorPeer } from '../../core/src/facilitator/__tests__/validator-peer.js';
import { requireBuiltCli } from '../support/miner-harness.js';
import { pgDatabase, type TestDatabase } from '../support/services.js';
import { freePort, logLines } from './cli-process.js';
import { processAlive, waitUntil } from './processes.js';

const CLI = fileURLToPath(new URL('../../core/bin/horde.js', import.meta.url));
const NETUID = 12;

const dir = mkdtempSync(join(tmpdir(), 'horde-facilitator-cluster-'));
let db: TestDatabase;
let store: Store;
let client: Hotkey;
let validator: Hotkey;
let supervisor: ChildProcess | null = null;
const output: string[] = [];
const peers: ValidatorPeer[] = [];

const config = (storeSection: Record<string, unknown>) =>
  JSON.stringify({
    role: 'facilitator',
    dataDir: dir,
    store: storeSection,
    chain: { network: 'local', netuid: NETUID },
    facilitator: { host: '127.0.0.1', hotkeyWhitelist: ['*'], workers: { pollSeconds: 0.5 } },
    plugins: [],
    log: { level: 'info', pretty: false },
  });

beforeAll(async () => {
  requireBuiltCli();
  db = await pgDatabase('horde_facw_cluster');
  store = await openStore({ client: 'postgres', url: db.url });
  [client, validator] = await Promise.all(['//FacwClusterClient', '//FacwClusterValidator'].map((uri) => loadHotkey({ uri })));
  await LocalChain.init(store, { blockTimeMs: 1000, subnets: [{ netuid: NETUID }] });
  const admin = await LocalChain.open({ store, netuid: NETUID });
  await admin.ledger.registerNeuron({
    netuid: NETUID,
    hotkey: validator.ss58,
    coldkey: validator.ss58,
    stake: 5000,
    validatorPermit: true,
  });
  await admin.close();
  writeFileSync(join(dir, 'pg.json'), config({ client: 'postgres', url: db.url }));
  writeFileSync(join(dir, 'sqlite.json'), config({ client: 'sqlite', filename: join(dir, 'f.sqlite') }));
}, 60_000);

afterAll(async () => {
  for (const p of peers) p.close();
  if (supervisor && supervisor.exitCode === null) {
    supervisor.kill('SIGTERM');
    await new Promise((resolve) => supervisor!.once('exit', resolve));
  }
  await store?.close();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('horde facilitator --workers N', () => {
  it('refuses workers on SQLite with HORDE_FACILITATOR_WORKERS_NEED_POSTGRES', () => {
    const result = spawnSync(process.execPath, [CLI, 'facilitator', '--config', join(dir, 'sqlite.json'), '--workers', '2'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/facilitator\.workers needs store\.client "postgres"/);
  });

  it('serves on one port from three workers, and survives a kill -9 of the one holding the validator', async () => {
    onTestFailed(() => console.error(output.join('').split('\n').slice(-60).join('\n')));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    supervisor = spawn(process.execPath, [CLI, 'facilitator', '--config', join(dir, 'pg.json'), '--workers', '3', '--port', String(port)], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    supervisor.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    supervisor.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const lines = () => logLines(output.join(''));
    const joined = () => lines().filter((line) => line['msg'] === 'facilitator worker joined the pool');
    await waitUntil('three workers joined', () => joined().length === 3, 60_000);
    await waitUntil('the port answers', async () => (await fetch(`${url}/healthz`).catch(() => null))?.status === 200, 20_000);

    const { nonce } = (await (await fetch(`${url}/api/v1/auth/nonce`)).json()) as { nonce: string };
    const { token } = (await (
      await fetch(`${url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ hotkey: client.ss58, signature: client.sign(nonce), nonce }),
      })
    ).json()) as { token: string };
    const submit = async (args: string[]) => {
      const body = jobBody(validator.ss58, { args });
      const res = await fetch(`${url}/api/v1/job-docker/`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
          ...signatureToHeaders(signJobCreation(client, body).signature),
        },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { uuid: string }).uuid;
    };
    const connect = async () => {
      const p = await ValidatorPeer.open(url);
      peers.push(p);
      p.send(createFacilitatorAuth(validator));
      expect(await p.next()).toEqual({ status: 'success', errors: [] });
      return p;
    };
    const complete = async (p: ValidatorPeer, uuid: string) => {
      p.send({ message_type: 'V0JobStatusUpdate', uuid, status: 'completed', metadata: null });
      await p.until((m) => 'status' in m && m.status === 'success');
    };
    const isRequest = (m: unknown): m is V2JobRequest => (m as { message_type?: string }).message_type === 'V2JobRequest';

    const first = await connect();
    const before = await submit(['before']);
    expect(await first.until(isRequest, 10_000)).toMatchObject({ uuid: before });
    await complete(first, before);

    // The worker that authenticated the validator says so, with its process id.
    const holder = lines().find((line) => line['msg'] === 'validator authenticated' && line['validatorHotkey'] === validator.ss58);
    const pid = Number(holder?.['pid']);
    expect(joined().map((line) => Number(line['pid']))).toContain(pid);
    process.kill(pid, 'SIGKILL');
    await waitUntil('the worker is gone', () => !processAlive(pid), 5_000);
    expect(await first.closed(5_000)).toBeGreaterThan(0);

    // Same address, another worker; a job accepted now reaches the validator there.
    const second = await connect();
    const after = await submit(['after']);
    expect(await second.until(isRequest, 10_000)).toMatchObject({ uuid: after });
    await complete(second, after);
    await waitUntil('the supervisor started the dead worker again', () => joined().length === 4, 30_000);
    expect(output.join('')).toMatch(/facilitator worker \d exited \(SIGKILL\); starting it again/);

    for (const uuid of [before, after]) {
      const res = await fetch(`${url}/api/v1/jobs/${uuid}/`, { headers: { authorization: `Bearer ${token}` } });
      expect(((await res.json()) as { status: string }).status).toBe('Completed');
    }
    supervisor.kill('SIGTERM');
    const code = await new Promise((resolve) => supervisor!.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
  }, 180_000);
});
