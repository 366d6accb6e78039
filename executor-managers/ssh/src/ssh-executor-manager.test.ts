import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { utils } from 'ssh2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutorHandle, ExecutorStartContext, ExecutorStatus } from '@horde/core';
import { runExecutorManagerContract } from '@horde/core/testkit';
import { sshConfig } from '../../../test/support/services.js';
import { sshHostSchema, sshManagerConfigSchema, type SshHostConfig } from './config.js';
import { publicKeyFingerprint } from '@horde/ssh-launcher';
import { SshExecutorManager } from './ssh-executor-manager.js';

// Everything here runs against the real sshd of the test services (127.0.0.1:55022). The "remote"
// host is this machine, so the tests can look at the processes the manager started there.

const silent = pino({ level: 'silent' });
const CLASS = 'always_on.test';

/** The test sshd's host key fingerprint, found the way an operator would: ssh-keyscan | ssh-keygen -lf. */
function testHostKey(): string {
  const { host, port } = sshConfig();
  const scanned = execFileSync('ssh-keyscan', ['-t', 'ed25519', '-p', String(port), host], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const line = scanned.split('\n').find((l) => l.includes('ssh-ed25519'));
  if (!line) throw new Error(`ssh-keyscan found no ed25519 key on ${host}:${port}`);
  return publicKeyFingerprint(line);
}

function testHost(overrides: Partial<SshHostConfig> = {}): SshHostConfig {
  const ssh = sshConfig();
  return sshHostSchema.parse({
    host: ssh.host,
    port: ssh.port,
    username: ssh.username,
    privateKeyPath: ssh.privateKeyPath,
    executorClass: CLASS,
    hostKeySha256: testHostKey(),
    remoteCommand: ['horde'],
    ...overrides,
  });
}

function manager(hosts: SshHostConfig[], killGraceMs = 2_000): SshExecutorManager {
  return new SshExecutorManager({ hosts, connectTimeoutSeconds: 15, keepaliveSeconds: 30, killGraceMs, logger: silent });
}

const pgrep = (pattern: string): string[] => spawnSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);

async function eventually<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

runExecutorManagerContract({
  name: 'ssh (real sshd, two host entries)',
  create: () => manager([testHost({ remoteCommand: [process.execPath] }), testHost({ remoteCommand: [process.execPath] })]),
  dispose: (m) => (m as SshExecutorManager).close(),
});

describe('ssh executor manager against a real sshd', () => {
  const dir = mkdtempSync(join(tmpdir(), 'horde-ssh-em-'));
  const log = join(dir, 'agents.log');
  const managers: SshExecutorManager[] = [];
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.close()));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * A stand-in for `horde` on the host: records which host ran it, with which arguments and token,
   * then waits in a child process with a unique command line (so leftovers can be found).
   */
  function fakeHorde(tag: string, sleepSeconds: string): SshHostConfig['remoteCommand'] {
    return ['/bin/sh', '-c', `echo "$HOST_TAG|$EXECUTOR_TOKEN|$*" >> "$AGENT_LOG"; sleep ${sleepSeconds} & wait`, tag];
  }

  function context(token: string): ExecutorStartContext {
    // What the miner's runtime builds: its own node + horde.js, then `executor` and the options.
    const argv = [process.execPath, '/srv/horde/core/bin/horde.js', 'executor', '--miner-url', 'ws://10.0.0.1:8000', '--token', token];
    return {
      minerAddress: 'ws://10.0.0.1:8000',
      launch: { argv, env: { MINER_ADDRESS: 'ws://10.0.0.1:8000', EXECUTOR_TOKEN: token, HORDE_EXECUTOR: '{"runner":"docker"}' } },
      timeoutSeconds: 30,
      logger: silent,
    };
  }

  const uniqueSleep = () => `${3000 + Math.floor(Math.random() * 1000)}.${Math.floor(Math.random() * 1e6)}`;
  const agentLines = () => readFileSync(log, 'utf8').trim().split('\n');

  it("runs the agent's executor arguments behind the host's remoteCommand, with the runtime's env and the host's env", async () => {
    const sleep = uniqueSleep();
    const m = manager([testHost({ remoteCommand: fakeHorde('horde', sleep), env: { HOST_TAG: 'gpu-1', AGENT_LOG: log } })]);
    managers.push(m);
    const token = randomUUID();
    const handle = await m.start(token, CLASS, context(token));
    const line = await eventually('the agent to record its start', () => readLog().find((l) => l.includes(token)));
    // The local `node /srv/horde/core/bin/horde.js` is gone; `executor` and its options are intact.
    expect(line).toBe(`gpu-1|${token}|executor --miner-url ws://10.0.0.1:8000 --token ${token}`);
    expect(await m.poll(handle)).toEqual({ state: 'running' });
    expect(await m.publicAddress(handle)).toBe(sshConfig().host);
  });

  it('kill stops the remote agent and everything it started, and frees the host', async () => {
    const sleep = uniqueSleep();
    const m = manager([testHost({ remoteCommand: fakeHorde('horde', sleep), env: { HOST_TAG: 'h', AGENT_LOG: log } })]);
    managers.push(m);
    const token = randomUUID();
    const handle = await m.start(token, CLASS, context(token));
    await eventually('the agent and its child to run', () =>
      pgrep(`^sleep ${sleep}$`).length === 1 && pgrep(token).length > 0 ? true : undefined,
    );
    // One host: a second executor must wait for it.
    await expect(m.start(randomUUID(), CLASS, context('x'))).rejects.toMatchObject({ code: 'HORDE_SSH_NO_FREE_HOST' });

    await m.kill(handle);
    expect(pgrep(`^sleep ${sleep}$`), 'no leftover child on the host').toEqual([]);
    expect(pgrep(token), 'no leftover agent on the host').toEqual([]);
    expect((await m.poll(handle)).state).toBe('exited');
    const next = await m.start(randomUUID(), CLASS, context('y'));
    expect(await m.poll(next)).toEqual({ state: 'running' });
  });

  it('hands out free hosts round-robin: the host that has been free longest goes first', async () => {
    const sleep = uniqueSleep();
    const host = (tag: string) => testHost({ remoteCommand: fakeHorde('horde', sleep), env: { HOST_TAG: tag, AGENT_LOG: log } });
    const m = manager([host('A'), host('B')]);
    managers.push(m);
    const tags: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const token = randomUUID();
      const handle = await m.start(token, CLASS, context(token));
      const line = await eventually('the agent to start', () => readLog().find((l) => l.includes(token)));
      tags.push(line.split('|')[0]!);
      await m.kill(handle);
    }
    expect(tags).toEqual(['A', 'B', 'A']);
  });

  it("reports the agent's own exit code once it stopped, and frees its host", async () => {
    const m = manager([testHost({ remoteCommand: ['/bin/sh', '-c', 'sleep 0.2; exit 7'] })]);
    managers.push(m);
    const handle = await m.start('t1', CLASS, context('t1'));
    const status = await eventually<ExecutorStatus>('the agent to exit', async () => {
      const s = await m.poll(handle);
      return s.state === 'exited' ? s : undefined;
    });
    expect(status).toEqual({ state: 'exited', exitCode: 7 });
    // The only host is free again as soon as the exit is reported.
    const next = await m.start('t2', CLASS, context('t2'));
    await m.kill(next);
  });

  it('reports an agent whose ssh connection was lost as exited, and the host kills what it left', async () => {
    const proxy = await startProxy(sshConfig().port);
    try {
      const sleep = uniqueSleep();
      const m = manager([testHost({ port: proxy.port, remoteCommand: fakeHorde('horde', sleep), env: { HOST_TAG: 'h', AGENT_LOG: log } })]);
      managers.push(m);
      const token = randomUUID();
      const handle = await m.start(token, CLASS, context(token));
      await eventually('the agent to run', () => (pgrep(`^sleep ${sleep}$`).length === 1 ? true : undefined));

      proxy.cut(); // the network between miner and host fails
      const status = await eventually<ExecutorStatus>('poll to report the executor exited', async () => {
        const s = await m.poll(handle);
        return s.state === 'exited' ? s : undefined;
      });
      expect(status).toMatchObject({ state: 'exited', exitCode: null, reason: 'ssh connection lost' });
      await eventually('the orphaned agent to be killed on the host', () =>
        pgrep(`^sleep ${sleep}$`).length === 0 && pgrep(token).length === 0 ? true : undefined,
      );
    } finally {
      await proxy.close();
    }
  });

  it('refuses a key the server does not accept, with an error that says so, and keeps the host usable', async () => {
    const wrongKey = utils.generateKeyPairSync('ed25519').private;
    const m = manager([testHost({ privateKeyPath: undefined, privateKey: wrongKey })]);
    managers.push(m);
    const token = randomUUID();
    const failure = m.start(token, CLASS, context(token));
    await expect(failure).rejects.toMatchObject({ code: 'HORDE_SSH_AUTH_FAILED' });
    await expect(failure).rejects.toThrow(/refused the configured private key.*authorized_keys/);
    // The host is not left marked busy: the next start fails the same way, not with "busy".
    await expect(m.start(randomUUID(), CLASS, context('z'))).rejects.toMatchObject({ code: 'HORDE_SSH_AUTH_FAILED' });
  });

  it('names the missing key file', async () => {
    const m = manager([testHost({ privateKeyPath: join(dir, 'no-such-key') })]);
    managers.push(m);
    await expect(m.start('t', CLASS, context('t'))).rejects.toMatchObject({
      code: 'HORDE_SSH_KEY_UNREADABLE',
      message: expect.stringContaining('no-such-key'),
    });
  });

  it('refuses a host whose key is not the pinned one, before sending anything, and reports the key it saw', async () => {
    const pinned = 'SHA256:' + 'A'.repeat(43);
    const m = manager([
      testHost({ hostKeySha256: pinned, remoteCommand: fakeHorde('horde', uniqueSleep()), env: { HOST_TAG: 'mitm', AGENT_LOG: log } }),
    ]);
    managers.push(m);
    const token = randomUUID();
    const failure = m.start(token, CLASS, context(token));
    await expect(failure).rejects.toMatchObject({ code: 'HORDE_SSH_HOST_KEY_REJECTED', fingerprint: testHostKey() });
    await expect(failure).rejects.toThrow(/not a trusted key/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(
      readLog().some((l) => l.includes(token)),
      'nothing ran on the refused host',
    ).toBe(false);
  });

  function readLog(): string[] {
    try {
      return agentLines();
    } catch {
      return [];
    }
  }

  it('accepts any host key only when insecureAcceptAnyHostKey is set', async () => {
    const m = manager([
      testHost({
        hostKeySha256: undefined,
        insecureAcceptAnyHostKey: true,
        remoteCommand: fakeHorde('horde', uniqueSleep()),
        env: { HOST_TAG: 'h', AGENT_LOG: log },
      }),
    ]);
    managers.push(m);
    const token = randomUUID();
    const handle: ExecutorHandle = await m.start(token, CLASS, context(token));
    expect(await m.poll(handle)).toEqual({ state: 'running' });
  });
});

describe('ssh executor manager config', () => {
  const base = { host: 'gpu1.example.com', username: 'horde', privateKeyPath: '/etc/horde/key', executorClass: CLASS };

  it('refuses a host with no host key to trust, and says how to get one', () => {
    const result = sshManagerConfigSchema.safeParse({ hosts: [base] });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error!.issues)).toMatch(/hostKeySha256.*ssh-keygen -lf/);
  });

  it('needs exactly one of privateKeyPath and privateKey', () => {
    const { privateKeyPath: _, ...noKey } = base;
    expect(sshManagerConfigSchema.safeParse({ hosts: [{ ...noKey, insecureAcceptAnyHostKey: true }] }).success).toBe(false);
    expect(sshManagerConfigSchema.safeParse({ hosts: [{ ...base, privateKey: 'x', insecureAcceptAnyHostKey: true }] }).success).toBe(false);
  });

  it('fills the documented defaults', () => {
    const config = sshManagerConfigSchema.parse({ hosts: [{ ...base, hostKeySha256: `SHA256:${'b'.repeat(43)}` }] });
    expect(config).toMatchObject({ connectTimeoutSeconds: 15, keepaliveSeconds: 30, killGraceMs: 5_000 });
    expect(config.hosts[0]).toMatchObject({ port: 22, remoteCommand: ['horde'], env: {}, insecureAcceptAnyHostKey: false });
  });

  it('refuses env names that are not shell identifiers and unknown keys', () => {
    const host = { ...base, insecureAcceptAnyHostKey: true };
    expect(sshManagerConfigSchema.safeParse({ hosts: [{ ...host, env: { 'A;B': '1' } }] }).success).toBe(false);
    expect(sshManagerConfigSchema.safeParse({ hosts: [{ ...host, hostname: 'typo' }] }).success).toBe(false);
  });
});

/** A TCP relay to the sshd whose connections the test can cut, like a network failure. */
async function startProxy(targetPort: number): Promise<{ port: number; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    cut: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
