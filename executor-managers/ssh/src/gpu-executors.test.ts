import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ExecutorStartContext } from '@horde/core';
import { sshConfig } from '../../../test/support/services.js';
import { sshHostSchema, type SshHostConfig } from './config.js';
import { parseNvidiaSmiList } from './gpu-list.js';
import { SshExecutorManager } from './ssh-executor-manager.js';

// One executor per GPU, against the real sshd of the test services. The host has no GPU, so its
// `nvidia-smi` is a stand-in script that prints what the real one prints (`nvidia-smi -L`); the
// agents are a stand-in `horde` that records the GPU it was pinned to.

const silent = pino({ level: 'silent' });
const CLASS = 'always_on.gpu-24gb';
const dir = mkdtempSync(join(tmpdir(), 'horde-ssh-gpus-'));
const log = join(dir, 'agents.log');
const nvidiaSmi = join(dir, 'nvidia-smi');
writeFileSync(log, '');

/** Makes the host's stand-in nvidia-smi list `count` GPUs (or fail, like a host without a driver). */
function hostHasGpus(count: number | 'broken'): void {
  const lines =
    count === 'broken'
      ? ['echo "NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver." >&2', 'exit 9']
      : [
          ...Array.from(
            { length: count },
            (_, i) => `echo "GPU ${i}: NVIDIA RTX A6000 (UUID: GPU-0000000${i}-aaaa-bbbb-cccc-dddddddddddd)"`,
          ),
          'exit 0',
        ];
  writeFileSync(nvidiaSmi, ['#!/bin/sh', ...lines, ''].join('\n'));
  chmodSync(nvidiaSmi, 0o755);
}

/** A unique sleep, so this test's agents can be told from anyone else's. */
const SLEEP = `${4000 + Math.floor(Math.random() * 1000)}.${Math.floor(Math.random() * 1e6)}`;

function host(overrides: Record<string, unknown>): SshHostConfig {
  const ssh = sshConfig();
  return sshHostSchema.parse({
    host: ssh.host,
    port: ssh.port,
    username: ssh.username,
    privateKeyPath: ssh.privateKeyPath,
    executorClass: CLASS,
    insecureAcceptAnyHostKey: true,
    nvidiaSmiCommand: nvidiaSmi,
    // Records the token and the GPU the agent was given, then waits like an agent.
    remoteCommand: ['/bin/sh', '-c', `echo "$EXECUTOR_TOKEN|gpu=$CUDA_VISIBLE_DEVICES" >> ${log}; sleep ${SLEEP} & wait`, 'horde'],
    ...overrides,
  });
}

function context(token: string): ExecutorStartContext {
  return {
    minerAddress: 'ws://127.0.0.1:1',
    launch: { argv: ['horde', 'executor', '--token', token], env: { EXECUTOR_TOKEN: token } },
    timeoutSeconds: 60,
    logger: silent,
  };
}

async function gpuOfAgent(token: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const line = readFileSync(log, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${token}|`));
    if (line) return line.split('|gpu=')[1]!;
    if (Date.now() > deadline) throw new Error(`agent ${token} never started`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('ssh executor manager: one executor per GPU', () => {
  const managers: SshExecutorManager[] = [];
  const manager = (hosts: SshHostConfig[]) => {
    const m = new SshExecutorManager({
      hosts,
      connectTimeoutSeconds: 10,
      keepaliveSeconds: 30,
      killGraceMs: 1_000,
      logger: silent,
      healthCheckSeconds: 0,
    });
    managers.push(m);
    return m;
  };
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.close()));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a host with detected GPUs offers one executor per GPU, each agent pinned to its own, and never one more', async () => {
    hostHasGpus(2);
    const m = manager([host({ gpus: 'detect' })]);
    expect(await m.manifest()).toEqual({ [CLASS]: 2 });
    expect(m.fleet()).toEqual([expect.objectContaining({ executors: 2, state: 'healthy', detail: 'GPUs 0,1; 0 busy' })]);

    const [a, b] = [randomUUID(), randomUUID()];
    const first = await m.start(a, CLASS, context(a));
    const second = await m.start(b, CLASS, context(b));
    expect(new Set([await gpuOfAgent(a), await gpuOfAgent(b)])).toEqual(new Set(['0', '1']));
    expect(m.gpuOf(first)).toBe(await gpuOfAgent(a));
    expect(m.fleet()).toEqual([expect.objectContaining({ state: 'busy', detail: 'GPUs 0,1; 2 busy' })]);
    // Both GPUs taken: a third executor would share a GPU with a running job.
    await expect(m.start('third', CLASS, context('third'))).rejects.toMatchObject({ code: 'HORDE_SSH_NO_FREE_HOST' });

    // The freed GPU is handed out again, to a job of its own.
    await m.kill(first);
    const c = randomUUID();
    await m.start(c, CLASS, context(c));
    expect(await gpuOfAgent(c)).toBe(await gpuOfAgent(a));
    await m.kill(second);
  }, 60_000);

  it('asks again at every probe: a GPU that disappears leaves the manifest, a host whose nvidia-smi fails offers none', async () => {
    hostHasGpus(4);
    const m = manager([host({ gpus: 'detect' })]);
    expect(await m.manifest()).toEqual({ [CLASS]: 4 });
    hostHasGpus(3);
    await m.probeAll();
    expect(await m.manifest()).toEqual({ [CLASS]: 3 });
    hostHasGpus('broken');
    await m.probeAll();
    expect(await m.manifest()).toEqual({ [CLASS]: 0 });
    expect(m.fleet()).toEqual([
      expect.objectContaining({ state: 'healthy', executors: 0, detail: expect.stringMatching(/exited with 9: NVIDIA-SMI has failed/) }),
    ]);
    await expect(m.start('none', CLASS, context('none'))).rejects.toMatchObject({ code: 'HORDE_SSH_NO_FREE_HOST' });
    hostHasGpus(1);
    await m.probeAll();
    expect(await m.manifest()).toEqual({ [CLASS]: 1 });
  }, 60_000);

  it('configured GPUs need no probe; a host entry without gpus stays one unpinned executor', async () => {
    const m = manager([host({ gpus: 3 }), host({ executorClass: 'always_on.test' })]);
    expect(await m.manifest()).toEqual({ [CLASS]: 3, 'always_on.test': 1 });
    const tokens = [randomUUID(), randomUUID(), randomUUID()];
    for (const token of tokens) await m.start(token, CLASS, context(token));
    expect((await Promise.all(tokens.map(gpuOfAgent))).sort()).toEqual(['0', '1', '2']);
    const cpu = randomUUID();
    await m.start(cpu, 'always_on.test', context(cpu));
    expect(await gpuOfAgent(cpu)).toBe('');
  }, 60_000);

  it('reads nvidia-smi -L as it is printed, MIG devices and warnings skipped', () => {
    expect(
      parseNvidiaSmiList(
        [
          'GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-5b2f3c1e-0000-0000-0000-000000000000)',
          '  MIG 3g.40gb     Device  0: (UUID: MIG-11111111-0000-0000-0000-000000000000)',
          'GPU 1: NVIDIA A100-SXM4-80GB (UUID: GPU-6c3f4d2f-0000-0000-0000-000000000000)',
          'Warning: persistence mode is disabled on device 00000000:07:00.0.',
          '',
        ].join('\n'),
      ),
    ).toEqual(['0', '1']);
    expect(parseNvidiaSmiList('No devices were found\n')).toEqual([]);
  });

  it('refuses a GPU count that is not a whole positive number', () => {
    expect(() => host({ gpus: 0 })).toThrow();
    expect(() => host({ gpus: 1.5 })).toThrow();
    expect(() => host({ gpus: 'all' })).toThrow();
  });
});
