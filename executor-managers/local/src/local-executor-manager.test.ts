import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { runExecutorManagerContract } from '@horde/core/testkit';
import type { ExecutorStartContext } from '@horde/core';
import { LocalExecutorStartError } from './errors.js';
import { LocalExecutorManager } from './local-executor-manager.js';

const silent = pino({ level: 'silent' });

// The local manager proves the semantics the miner's pool relies on, like any manager must.
runExecutorManagerContract({
  name: 'local',
  create: () => new LocalExecutorManager({ executorClass: 'always_on.test', executors: 2, killGraceMs: 2_000, logger: silent }),
});

/** An agent that just waits: enough to hold an executor slot. */
const holding: ExecutorStartContext = {
  minerAddress: 'ws://127.0.0.1:1',
  launch: { argv: [process.execPath, '-e', 'setTimeout(() => {}, 60000)'], env: {} },
  timeoutSeconds: 5,
  logger: silent,
};

describe('LocalExecutorManager', () => {
  it('never runs more agents than it declares, and frees the slot once one is killed', async () => {
    const manager = new LocalExecutorManager({ executorClass: 'always_on.test', executors: 1, killGraceMs: 500, logger: silent });
    try {
      const first = await manager.start('t1', 'always_on.test', holding);
      const refused = await manager.start('t2', 'always_on.test', holding).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(LocalExecutorStartError);
      expect(refused).toMatchObject({ code: 'HORDE_LOCAL_EXECUTOR_START_REFUSED', message: 'all 1 executors are busy' });
      // An executor being killed no longer holds its place: the next one may start meanwhile.
      const killing = manager.kill(first);
      const during = await manager.start('t2b', 'always_on.test', holding);
      await killing;
      await manager.kill(during);
      const again = await manager.start('t3', 'always_on.test', holding);
      expect((await manager.poll(again)).state).toBe('running');
    } finally {
      await manager.close();
    }
  });

  it('reports its configured public address for streaming jobs, and none when unset (the miner then uses the connection address)', async () => {
    const configured = new LocalExecutorManager({
      executorClass: 'always_on.test',
      executors: 1,
      killGraceMs: 500,
      logger: silent,
      publicAddress: '203.0.113.7',
    });
    const unset = new LocalExecutorManager({ executorClass: 'always_on.test', executors: 1, killGraceMs: 500, logger: silent });
    expect(await configured.publicAddress({ id: 'local-1' })).toBe('203.0.113.7');
    expect(await unset.publicAddress({ id: 'local-1' })).toBeNull();
  });

  it('refuses a class it does not run with a typed error', async () => {
    const manager = new LocalExecutorManager({ executorClass: 'always_on.test', executors: 1, killGraceMs: 500, logger: silent });
    await expect(manager.start('t1', 'always_on.gpu-24gb', holding)).rejects.toMatchObject({ code: 'HORDE_LOCAL_EXECUTOR_START_REFUSED' });
  });

  it('reports a program that cannot start as a failed start, and signals nothing (no pid, no group)', async () => {
    const manager = new LocalExecutorManager({ executorClass: 'always_on.test', executors: 1, killGraceMs: 500, logger: silent });
    const missing = { ...holding, launch: { argv: ['/nonexistent/horde-agent'], env: {} } };
    await expect(manager.start('t1', 'always_on.test', missing)).rejects.toMatchObject({ code: 'ENOENT' });
    // The miner (this test process) is still alive: a -0 "group" signal would have hit it.
    const next = await manager.start('t2', 'always_on.test', holding);
    await manager.kill(next);
  });
});
