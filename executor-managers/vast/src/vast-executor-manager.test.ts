import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ExecutorHandle, ExecutorStartContext, ExecutorStatus } from '@horde/core';
import { runExecutorManagerContract } from '@horde/core/testkit';
import { sshConfig } from '../../../test/support/services.js';
import { FakeVastServer } from '../test/fake-vast-server.js';
import { vastConfigSchema, type VastConfig } from './config.js';
import { VastExecutorManager } from './vast-executor-manager.js';

// A fake marketplace (real HTTP, the documented API) whose rented "instances" are the real sshd of
// the test services (127.0.0.1:55022): the agent really runs over SSH, on this machine.

const silent = pino({ level: 'silent' });
const CLASS = 'spin_up-4min.gpu-24gb';
const API_KEY = 'test-key-0123456789';

const OFFERS = [
  {
    id: 101,
    machine_id: 1,
    gpu_name: 'RTX 3090',
    num_gpus: 1,
    gpu_ram: 24_576,
    dph_total: 0.15,
    reliability2: 0.99,
    verified: true,
    external: false,
    rentable: true,
  },
  {
    id: 102,
    machine_id: 2,
    gpu_name: 'RTX 4090',
    num_gpus: 1,
    gpu_ram: 24_564,
    dph_total: 0.4,
    reliability2: 0.99,
    verified: true,
    external: false,
    rentable: true,
  },
  {
    id: 103,
    machine_id: 3,
    gpu_name: 'RTX 4090',
    num_gpus: 1,
    gpu_ram: 24_564,
    dph_total: 0.35,
    reliability2: 0.98,
    verified: true,
    external: false,
    rentable: true,
  },
  {
    id: 104,
    machine_id: 4,
    gpu_name: 'RTX 4090',
    num_gpus: 1,
    gpu_ram: 24_564,
    dph_total: 0.9,
    reliability2: 0.99,
    verified: true,
    external: false,
    rentable: true,
  },
  {
    id: 105,
    machine_id: 5,
    gpu_name: 'RTX 4090',
    num_gpus: 1,
    gpu_ram: 24_564,
    dph_total: 0.2,
    reliability2: 0.99,
    verified: false,
    external: false,
    rentable: true,
  },
  {
    id: 106,
    machine_id: 6,
    gpu_name: 'RTX 4090',
    num_gpus: 1,
    gpu_ram: 24_564,
    dph_total: 0.5,
    reliability2: 0.97,
    verified: true,
    external: false,
    rentable: true,
  },
];

let fake: FakeVastServer;
let apiUrl = '';

beforeAll(async () => {
  const ssh = sshConfig();
  fake = new FakeVastServer({ apiKey: API_KEY, offers: OFFERS, ssh: { host: ssh.host, port: ssh.port } });
  apiUrl = await fake.start();
});
afterAll(() => fake.close());

function config(overrides: Record<string, unknown> = {}): VastConfig {
  const ssh = sshConfig();
  return vastConfigSchema.parse({
    apiUrl,
    apiKey: API_KEY,
    image: 'ghcr.io/acme/horde-executor:test',
    classes: { [CLASS]: { maxInstances: 2, gpuName: 'RTX_4090', minGpuRamGb: 24, maxDphTotal: 0.6 } },
    remoteCommand: [process.execPath],
    readyTimeoutSeconds: 15,
    pollIntervalSeconds: 0.05,
    ssh: { username: ssh.username, privateKeyPath: ssh.privateKeyPath },
    killGraceMs: 2_000,
    maxRetries: 3,
    ...overrides,
  });
}

function manager(overrides: Record<string, unknown> = {}): VastExecutorManager {
  return new VastExecutorManager({ config: config(overrides), logger: silent, retryBaseMs: 20 });
}

runExecutorManagerContract({
  name: 'vast (fake marketplace, real sshd)',
  create: () => manager(),
  dispose: async (m) => {
    await (m as VastExecutorManager).close();
    expect(fake.live(), 'every rented instance is destroyed').toEqual([]);
  },
});

async function eventually<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const pgrep = (pattern: string): string[] => spawnSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);

describe('vast executor manager', () => {
  const dir = mkdtempSync(join(tmpdir(), 'horde-vast-em-'));
  const log = join(dir, 'agents.log');
  const managers: VastExecutorManager[] = [];

  beforeEach(() => {
    fake.calls.length = 0;
    fake.neverReady = false;
    fake.readyAfterPolls = 2;
    fake.takenMeanwhile.clear();
    fake.proxy = null;
  });
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.close()));
    expect(fake.live(), 'no test leaves an instance rented').toEqual([]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function make(overrides: Record<string, unknown> = {}): VastExecutorManager {
    const m = manager(overrides);
    managers.push(m);
    return m;
  }

  /** A stand-in for `horde` on the image: records its arguments and token, waits in a uniquely named child. */
  function fakeHorde(sleep: string): string[] {
    return ['/bin/sh', '-c', `echo "$EXECUTOR_TOKEN|$*" >> ${log}; sleep ${sleep} & wait`, 'horde'];
  }

  function context(token: string): ExecutorStartContext {
    const argv = [process.execPath, '/srv/horde/core/bin/horde.js', 'executor', '--miner-url', 'ws://203.0.113.7:8000', '--token', token];
    return {
      minerAddress: 'ws://203.0.113.7:8000',
      launch: { argv, env: { MINER_ADDRESS: 'ws://203.0.113.7:8000', EXECUTOR_TOKEN: token } },
      timeoutSeconds: 300,
      logger: silent,
    };
  }

  const uniqueSleep = () => `${5000 + Math.floor(Math.random() * 1000)}.${Math.floor(Math.random() * 1e6)}`;
  const readLog = (): string[] => {
    try {
      return readFileSync(log, 'utf8').trim().split('\n');
    } catch {
      return [];
    }
  };

  it('rents the cheapest matching offer with the documented requests, runs the agent on it over ssh, and destroys it on kill', async () => {
    const sleep = uniqueSleep();
    const m = make({ remoteCommand: fakeHorde(sleep) });
    const token = randomUUID();
    const handle = await m.start(token, CLASS, context(token));

    // The agent runs on the "instance", behind the image's horde command.
    const line = await eventually('the agent to start', () => readLog().find((l) => l.startsWith(token)));
    expect(line).toBe(`${token}|executor --miner-url ws://203.0.113.7:8000 --token ${token}`);
    expect(await m.poll(handle)).toEqual({ state: 'running' });

    const [search] = fake.callsTo('POST', '/api/v0/bundles/');
    expect(search!.body).toEqual({
      verified: { eq: true },
      external: { eq: false },
      rentable: { eq: true },
      rented: { eq: false },
      gpu_name: { eq: 'RTX 4090' },
      gpu_ram: { gte: 24_000 },
      dph_total: { lte: 0.6 },
      order: [['dph_total', 'asc']],
      type: 'on-demand',
      limit: 10,
      allocated_storage: 10,
    });
    // 101 is a 3090, 105 unverified, 104 too dear: 103 is the cheapest that fits.
    const rents = fake.callsTo('PUT', '/api/v0/asks/');
    expect(rents.map((c) => c.path)).toEqual(['/api/v0/asks/103/']);
    expect(rents[0]!.body).toEqual({
      client_id: 'me',
      image: 'ghcr.io/acme/horde-executor:test',
      disk: 10,
      label: `horde-${token.slice(0, 8)}`,
      runtype: 'ssh',
      onstart: null,
      env: {},
      price: null,
      cancel_unavail: true,
    });
    const [instance] = fake.live();
    const reads = fake.callsTo('GET', `/api/v0/instances/${instance!.id}/`);
    expect(reads.length, 'polled until running').toBe(3);
    expect(reads.every((c) => c.query.owner === 'me')).toBe(true);
    expect(fake.calls.every((c) => c.authorization === `Bearer ${API_KEY}`)).toBe(true);

    await m.kill(handle);
    expect(pgrep(`^sleep ${sleep}$`), 'the agent and its child are gone').toEqual([]);
    expect(fake.callsTo('DELETE', '/api/v0/instances/').map((c) => c.path)).toEqual([`/api/v0/instances/${instance!.id}/`]);
    expect(fake.live()).toEqual([]);
    expect((await m.poll(handle)).state).toBe('exited');
  });

  it('destroys the instance when the agent ends on its own, before reporting the executor exited', async () => {
    const m = make({ remoteCommand: ['/bin/sh', '-c', 'sleep 0.2; exit 7'] });
    const handle = await m.start('t1', CLASS, context('t1'));
    const status = await eventually<ExecutorStatus>('the executor to exit', async () => {
      const s = await m.poll(handle);
      return s.state === 'exited' ? s : undefined;
    });
    expect(status).toEqual({ state: 'exited', exitCode: 7 });
    expect(fake.live(), 'already destroyed when the exit is reported').toEqual([]);
  });

  it('tries the next cheapest offer when one is taken meanwhile', async () => {
    fake.takenMeanwhile.add(103);
    const m = make({ remoteCommand: fakeHorde(uniqueSleep()) });
    await m.start('t2', CLASS, context('t2'));
    expect(fake.callsTo('PUT', '/api/v0/asks/').map((c) => c.path)).toEqual(['/api/v0/asks/103/', '/api/v0/asks/102/']);
    expect(fake.live().map((i) => i.offer.id)).toEqual([102]);
  });

  it('fails clearly when no offer matches, without renting anything', async () => {
    const m = make({ classes: { [CLASS]: { maxInstances: 1, gpuName: 'H100_SXM', numGpus: 8 } } });
    const failure = m.start('t3', CLASS, context('t3'));
    await expect(failure).rejects.toMatchObject({ code: 'HORDE_VAST_NO_OFFER' });
    await expect(failure).rejects.toThrow(`no vast offer matches executor class ${CLASS} (gpu H100_SXM, 8 GPU(s), verified)`);
    expect(fake.callsTo('PUT', '/api/v0/asks/')).toEqual([]);
    // The failed start gave its slot back: the same error again, not "all instances in use".
    await expect(m.start('t4', CLASS, context('t4'))).rejects.toMatchObject({ code: 'HORDE_VAST_NO_OFFER' });
  });

  it('destroys an instance that never becomes running, after the ready timeout, and fails the start', async () => {
    fake.neverReady = true;
    const m = make({ readyTimeoutSeconds: 0.5 });
    const started = Date.now();
    const failure = m.start('t5', CLASS, context('t5'));
    await expect(failure).rejects.toMatchObject({ code: 'HORDE_VAST_READY_TIMEOUT' });
    await expect(failure).rejects.toThrow(/not reachable over ssh within 0.5 s \(last: status loading \(Pulling image\)\)/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    const [rent] = fake.callsTo('PUT', '/api/v0/asks/');
    expect(rent).toBeDefined();
    const id = [...fake.instances.values()].at(-1)!.id;
    expect(fake.callsTo('DELETE', '/api/v0/instances/').map((c) => c.path)).toEqual([`/api/v0/instances/${id}/`]);
    expect(fake.live()).toEqual([]);
  });

  it('also gives up on an instance that runs but never accepts ssh, naming the ssh error', async () => {
    fake.proxy = { host: '127.0.0.1', port: 9 }; // nothing listens there
    const m = make({ readyTimeoutSeconds: 1 });
    const failure = m.start('t18', CLASS, context('t18'));
    await expect(failure).rejects.toMatchObject({ code: 'HORDE_VAST_READY_TIMEOUT' });
    await expect(failure).rejects.toThrow(/last: ssh: cannot connect to \S+@127\.0\.0\.1:9/);
    expect(fake.live()).toEqual([]);
  });

  it('reports a refused API key as such, without retrying and without echoing the key', async () => {
    const m = make({ apiKey: 'wrong-secret-key' });
    const failure = m.start('t6', CLASS, context('t6'));
    await expect(failure).rejects.toMatchObject({ code: 'HORDE_VAST_AUTH_FAILED', status: 401 });
    await expect(failure).rejects.toThrow(/refused the API key \(HTTP 401: invalid_user_key: Invalid user key\)\. Check apiKey/);
    await expect(failure).rejects.not.toThrow(/wrong-secret-key/);
    expect(fake.calls.length).toBe(1);
    expect(fake.calls[0]!.authorization).toBe('Bearer wrong-secret-key');
  });

  it('backs off and retries when rate limited (HTTP 429), and gives up with a clear error', async () => {
    fake.rateLimitNext(2);
    const m = make({ remoteCommand: fakeHorde(uniqueSleep()) });
    await m.start('t7', CLASS, context('t7'));
    expect(fake.callsTo('POST', '/api/v0/bundles/').length, 'two 429s, then the answer').toBe(3);

    fake.rateLimitNext(10);
    await expect(make({ maxRetries: 2 }).start('t8', CLASS, context('t8'))).rejects.toMatchObject({ code: 'HORDE_VAST_RATE_LIMITED' });
    fake.rateLimitNext(0);
  });

  it('refuses more executors of a class than maxInstances, and classes it does not have', async () => {
    const m = make({ classes: { [CLASS]: { maxInstances: 1, gpuName: 'RTX_4090' } }, remoteCommand: fakeHorde(uniqueSleep()) });
    expect(await m.manifest()).toEqual({ [CLASS]: 1 });
    await m.start('t9', CLASS, context('t9'));
    await expect(m.start('t10', CLASS, context('t10'))).rejects.toMatchObject({ code: 'HORDE_VAST_CAPACITY' });
    await expect(m.start('t11', 'always_on.cpu.8c.16gb', context('t11'))).rejects.toMatchObject({ code: 'HORDE_VAST_CAPACITY' });
    expect(fake.live().length).toBe(1);
  });

  it('keeps an idle instance warm for the next executor of its class, then destroys it', async () => {
    const m = make({ idleSeconds: 1, remoteCommand: fakeHorde(uniqueSleep()) });
    const first: ExecutorHandle = await m.start('t12', CLASS, context('t12'));
    await m.kill(first);
    expect(fake.live().length, 'kept after its executor was killed').toBe(1);
    const second = await m.start('t13', CLASS, context('t13'));
    expect(fake.callsTo('PUT', '/api/v0/asks/').length, 'the warm instance was reused, nothing new rented').toBe(1);
    expect(await m.poll(second)).toEqual({ state: 'running' });
    await m.kill(second);
    expect(fake.live().length).toBe(1);
    await eventually('the idle instance to be destroyed', () => (fake.live().length === 0 ? true : undefined), 5_000);
    expect(fake.callsTo('DELETE', '/api/v0/instances/').length).toBe(1);
  });

  it('with direct set, connects to the public IP and the port mapped to 22, not through the proxy', async () => {
    fake.proxy = { host: '127.0.0.1', port: 9 }; // nothing listens there
    const m = make({ direct: true, remoteCommand: fakeHorde(uniqueSleep()) });
    const handle = await m.start('t17', CLASS, context('t17'));
    expect(fake.callsTo('PUT', '/api/v0/asks/')[0]!.body).toMatchObject({ runtype: 'ssh_direc ssh_proxy' });
    expect(await m.poll(handle)).toEqual({ state: 'running' });
    expect(await m.publicAddress(handle)).toBe(sshConfig().host);
  });

  it('close destroys every instance it rented, including one still starting', async () => {
    const sleep = uniqueSleep();
    const m = manager({ remoteCommand: fakeHorde(sleep) });
    await m.start('t14', CLASS, context('t14'));
    fake.neverReady = true;
    // Caught at once: it fails while close() runs, before the test looks at it.
    const stillStarting = m.start('t15', CLASS, context('t15')).catch((error: unknown) => error);
    await eventually('the second instance to be rented', () => (fake.live().length === 2 ? true : undefined));

    await m.close();
    expect(await stillStarting).toMatchObject({ code: 'HORDE_VAST_CLOSED' });
    expect(fake.live()).toEqual([]);
    expect(fake.callsTo('DELETE', '/api/v0/instances/').length).toBe(2);
    expect(pgrep(`^sleep ${sleep}$`), 'the running agent is gone too').toEqual([]);
    await expect(m.start('t16', CLASS, context('t16'))).rejects.toMatchObject({ code: 'HORDE_VAST_CLOSED' });
  });
});

describe('vast executor manager config', () => {
  const base = { apiKey: 'k', image: 'img', classes: { [CLASS]: { maxInstances: 1 } }, ssh: { privateKeyPath: '/k' } };

  it('fills the documented defaults', () => {
    const parsed = vastConfigSchema.parse(base);
    expect(parsed).toMatchObject({
      apiUrl: 'https://console.vast.ai',
      disk: 10,
      remoteCommand: ['horde'],
      readyTimeoutSeconds: 600,
      idleSeconds: 0,
      direct: false,
      ssh: { username: 'root', connectTimeoutSeconds: 15, keepaliveSeconds: 30 },
    });
    expect(parsed.classes[CLASS]).toMatchObject({ verified: true, external: false, extraFilters: {} });
  });

  it('needs an API key, an image, a class and exactly one ssh key', () => {
    expect(vastConfigSchema.safeParse({ ...base, apiKey: undefined }).success).toBe(false);
    expect(vastConfigSchema.safeParse({ ...base, image: undefined }).success).toBe(false);
    expect(vastConfigSchema.safeParse({ ...base, classes: {} }).success).toBe(false);
    expect(vastConfigSchema.safeParse({ ...base, ssh: {} }).success).toBe(false);
    expect(vastConfigSchema.safeParse({ ...base, ssh: { privateKeyPath: '/k', privateKey: 'x' } }).success).toBe(false);
    expect(vastConfigSchema.safeParse({ ...base, classes: { [CLASS]: { maxInstances: 1, gpu: 'typo' } } }).success).toBe(false);
  });
});
