import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutorStartContext, ExecutorStatus } from '@horde/core';
import { sshConfig } from '../../../test/support/services.js';
import { sshHostSchema } from './config.js';
import { SshExecutorManager } from './ssh-executor-manager.js';

// A host that stops answering and comes back, against a real sshd of this test's own (its own port
// and pid file, the test services' keys): the shared sshd is never touched.

const silent = pino({ level: 'silent' });
const CLASS = 'always_on.test';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Our own sshd: started, stopped (SIGSTOP: a hung host), continued, killed and started again, by its pid. */
class OwnSshd {
  readonly dir = mkdtempSync(join(tmpdir(), 'horde-own-sshd-'));
  readonly config = join(this.dir, 'sshd_config');
  readonly pidFile = join(this.dir, 'sshd.pid');

  constructor(readonly port: number) {
    // The test services' key pair (test/services/start.sh): their directory holds the host key and authorized_keys.
    const keys = dirname(sshConfig().privateKeyPath);
    writeFileSync(
      this.config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(keys, 'hostkey')}`,
        `PidFile ${this.pidFile}`,
        `AuthorizedKeysFile ${join(keys, 'authorized_keys')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        'PermitRootLogin prohibit-password',
        'UsePAM no',
        'StrictModes no',
        '',
      ].join('\n'),
    );
  }

  start(): void {
    execFileSync('/usr/sbin/sshd', ['-f', this.config, '-E', join(this.dir, 'sshd.log')], { stdio: 'ignore' });
  }

  private pid(): number | null {
    try {
      return Number(readFileSync(this.pidFile, 'utf8').trim());
    } catch {
      return null; // stopped: sshd removes its pid file
    }
  }

  /** The listener and every session process under it, by pid. */
  private pids(): number[] {
    const pid = this.pid();
    if (pid === null) return [];
    const all = [pid];
    for (let i = 0; i < all.length; i++) {
      const children = spawnSync('pgrep', ['-P', String(all[i])], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter(Boolean)
        .map(Number);
      all.push(...children.filter((pid) => !all.includes(pid)));
    }
    return all;
  }

  /** The host hangs: sshd and its sessions stop answering (packets are still accepted by the kernel). */
  freeze(): number[] {
    const frozen = this.pids().filter((pid) => !this.isAgent(pid));
    for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    return frozen;
  }

  thaw(pids: readonly number[]): void {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone meanwhile
      }
    }
  }

  /** Only sshd processes are frozen, not the commands they run (the agent's shell). */
  private isAgent(pid: number): boolean {
    const comm = spawnSync('ps', ['-o', 'comm=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim();
    return comm !== 'sshd' && !comm.startsWith('sshd');
  }

  /** The host goes down: the listener and every session end (their connections close). */
  stop(): void {
    for (const pid of this.pids()
      .filter((p) => !this.isAgent(p))
      .reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(this.pidFile, { force: true });
  }

  cleanup(): void {
    for (const pid of this.pids().reverse()) {
      try {
        process.kill(pid, 'SIGCONT');
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function eventually<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A sleep no other test runs, so its processes can be found. */
const SLEEP = `${100 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 1e6)}`;
const agents = (): string[] =>
  spawnSync('pgrep', ['-f', `^sleep ${SLEEP}$`], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean);

function context(token: string): ExecutorStartContext {
  return {
    minerAddress: 'ws://127.0.0.1:1',
    launch: { argv: ['horde', 'executor', '--token', token], env: { EXECUTOR_TOKEN: token } },
    timeoutSeconds: 60,
    logger: silent,
  };
}

describe('ssh fleet health', () => {
  let sshd: OwnSshd;

  beforeAll(async () => {
    sshd = new OwnSshd(await freePort());
    sshd.start();
  });
  afterAll(() => sshd?.cleanup());

  it('a host that stops answering mid-run leaves the manifest in bounded time, its executor is reported lost, and it comes back', async () => {
    const ssh = sshConfig();
    const host = sshHostSchema.parse({
      host: '127.0.0.1',
      port: sshd.port,
      username: ssh.username,
      privateKeyPath: ssh.privateKeyPath,
      executorClass: CLASS,
      insecureAcceptAnyHostKey: true,
      remoteCommand: ['/bin/sh', '-c', `sleep ${SLEEP} & wait`, 'horde'],
    });
    const m = new SshExecutorManager({
      hosts: [host],
      connectTimeoutSeconds: 2,
      keepaliveSeconds: 30,
      killGraceMs: 1_000,
      logger: silent,
      healthCheckSeconds: 0.5,
      healthCheckTimeoutSeconds: 1,
      unhealthyAfterFailures: 2,
    });
    try {
      await m.probeAll();
      expect(await m.manifest()).toEqual({ [CLASS]: 1 });
      const handle = await m.start('t-health-1', CLASS, context('t-health-1'));
      expect(await m.poll(handle)).toEqual({ state: 'running' });
      expect(m.fleet()).toEqual([expect.objectContaining({ state: 'busy', executorClass: CLASS })]);

      // The host hangs. Bound: 2 failed probes 0.5 s apart, each given 1 s.
      const frozen = sshd.freeze();
      const frozenAt = Date.now();
      await eventually('the host to leave the manifest', async () => ((await m.manifest())[CLASS] === 0 ? true : undefined), 20_000);
      // About 2 s by the settings; the slack is for a loaded CI machine.
      expect(Date.now() - frozenAt).toBeLessThan(10_000);
      expect(m.fleet()).toEqual([
        expect.objectContaining({ state: 'dead', detail: expect.stringContaining('no answer to the health probe') }),
      ]);
      // The running executor is reported exited at once (the miner fails its job as a horde failure).
      const status = await eventually<ExecutorStatus>(
        'the executor to be reported lost',
        async () => {
          const s = await m.poll(handle);
          return s.state === 'exited' ? s : undefined;
        },
        10_000,
      );
      expect(status).toMatchObject({ state: 'exited', reason: 'ssh connection lost' });
      await expect(m.start('t-health-2', CLASS, context('t-health-2'))).rejects.toMatchObject({ code: 'HORDE_SSH_NO_FREE_HOST' });

      // It answers again: back in the manifest, and it runs executors.
      sshd.thaw(frozen);
      await eventually('the host to come back', async () => ((await m.manifest())[CLASS] === 1 ? true : undefined), 20_000);
      // Once it answers, the lost agent's session is over and its processes are gone.
      await eventually('the lost agent to be gone from the host', () => (agents().length === 0 ? true : undefined), 20_000);
      const again = await m.start('t-health-3', CLASS, context('t-health-3'));
      expect(await m.poll(again)).toEqual({ state: 'running' });
      await m.kill(again);

      // Down outright (sessions gone, connections refused), then started again: out, then back in.
      sshd.stop();
      await eventually(
        'the stopped host to leave the manifest',
        async () => ((await m.manifest())[CLASS] === 0 ? true : undefined),
        20_000,
      );
      sshd.start();
      await eventually('the restarted host to come back', async () => ((await m.manifest())[CLASS] === 1 ? true : undefined), 20_000);
    } finally {
      await m.close();
    }
  }, 120_000);

  it('a dead host takes every one of its GPU executors out of the manifest, reports each lost, and brings them all back', async () => {
    const ssh = sshConfig();
    const host = sshHostSchema.parse({
      host: '127.0.0.1',
      port: sshd.port,
      username: ssh.username,
      privateKeyPath: ssh.privateKeyPath,
      executorClass: CLASS,
      insecureAcceptAnyHostKey: true,
      gpus: 3,
      remoteCommand: ['/bin/sh', '-c', `sleep ${SLEEP} & wait`, 'horde'],
    });
    const m = new SshExecutorManager({
      hosts: [host],
      connectTimeoutSeconds: 2,
      keepaliveSeconds: 30,
      killGraceMs: 1_000,
      logger: silent,
      healthCheckSeconds: 0.5,
      healthCheckTimeoutSeconds: 1,
      unhealthyAfterFailures: 2,
    });
    try {
      await m.probeAll();
      expect(await m.manifest()).toEqual({ [CLASS]: 3 });
      const handles = [await m.start('t-gpu-1', CLASS, context('t-gpu-1')), await m.start('t-gpu-2', CLASS, context('t-gpu-2'))];
      expect(handles.map((h) => m.gpuOf(h)).sort()).toEqual(['0', '1']);

      sshd.stop();
      await eventually(
        'the host and all its GPUs to leave the manifest',
        async () => ((await m.manifest())[CLASS] === 0 ? true : undefined),
        20_000,
      );
      expect(m.fleet()).toEqual([expect.objectContaining({ state: 'dead', executors: 3 })]);
      for (const handle of handles) {
        const status = await eventually<ExecutorStatus>(
          'each executor to be reported lost',
          async () => {
            const s = await m.poll(handle);
            return s.state === 'exited' ? s : undefined;
          },
          10_000,
        );
        expect(status).toMatchObject({ state: 'exited', reason: 'ssh connection lost' });
      }
      await expect(m.start('t-gpu-3', CLASS, context('t-gpu-3'))).rejects.toMatchObject({ code: 'HORDE_SSH_NO_FREE_HOST' });

      sshd.start();
      await eventually('the host to come back with its GPUs', async () => ((await m.manifest())[CLASS] === 3 ? true : undefined), 20_000);
      // Every GPU is free again: the lost executors gave their slots back.
      const again = [];
      for (let i = 0; i < 3; i += 1) again.push(await m.start(`t-gpu-back-${i}`, CLASS, context(`t-gpu-back-${i}`)));
      expect(again.map((h) => m.gpuOf(h)).sort()).toEqual(['0', '1', '2']);
    } finally {
      await m.close();
    }
  }, 120_000);
});
