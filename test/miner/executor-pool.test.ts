/**
 * The miner's executor pool over the real local executor manager (real processes): reservations,
 * busy, exits, TTL expiry, start failures and kills.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExecutorHandle, ExecutorManager, ExecutorStartContext } from '../../core/src/contracts/index.js';
import { silentLogger } from '../../core/src/logging/index.js';
import { AllExecutorsBusyError, ExecutorUnavailableError, PoolChangedError } from '../../core/src/miner/errors.js';
import { ExecutorPool, type ExecutorGoneEvent } from '../../core/src/miner/pool/executor-pool.js';
import { SystemClock } from '../../core/src/time/clock.js';
import { LocalExecutorManager } from '../../executor-managers/local/src/local-executor-manager.js';

const CLASS = 'always_on.test';
const logger = silentLogger();

function ctx(script: string): ExecutorStartContext {
  return { minerAddress: 'ws://127.0.0.1:1', launch: { argv: [process.execPath, '-e', script], env: {} }, timeoutSeconds: 5, logger };
}
const forever = ctx('setInterval(() => {}, 1000)');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('ExecutorPool', () => {
  let pool: ExecutorPool;
  const gone: ExecutorGoneEvent[] = [];
  const expiring: string[] = [];

  let manager: LocalExecutorManager;

  function makePool(
    options: {
      executors?: number;
      ttlMs?: number;
      startupLimitMs?: number;
      drainLimitMs?: number;
      wrap?: (real: LocalExecutorManager) => ExecutorManager;
    } = {},
  ): ExecutorPool {
    manager = new LocalExecutorManager({ executorClass: CLASS, executors: options.executors ?? 1, killGraceMs: 1_000, logger });
    gone.length = 0;
    expiring.length = 0;
    pool = new ExecutorPool({
      manager: options.wrap ? options.wrap(manager) : manager,
      clock: new SystemClock(),
      logger,
      cleanupIntervalMs: 50,
      ...(options.ttlMs ? { ttlMs: options.ttlMs } : {}),
      ...(options.startupLimitMs ? { startupLimitMs: options.startupLimitMs } : {}),
      ...(options.drainLimitMs ? { drainLimitMs: options.drainLimitMs } : {}),
      onExecutorGone: (event) => gone.push(event),
      onExecutorExpiring: (event) => expiring.push(event.token),
    });
    pool.start();
    return pool;
  }
  afterEach(async () => {
    await pool?.close();
  });

  it('holds the slot from the reservation on: a second reservation is busy even before the first executor started', async () => {
    makePool();
    const first = await pool.reserve('t1', CLASS, forever);
    await expect(pool.reserve('t2', CLASS, forever)).rejects.toBeInstanceOf(AllExecutorsBusyError);
    await first.started;
    expect(pool.usage()).toEqual({ [CLASS]: { capacity: 1, used: 1, draining: 0 } });
  });

  it('reserves on a decision only while the class is as the decision saw it (revision)', async () => {
    makePool({ executors: 2 });
    const seen = pool.revision(CLASS);
    await pool.reserve('first', CLASS, forever, 'validator-a');
    // The manifest read and the first reservation changed the class: a decision made before is stale, and nothing is reserved on it.
    expect(pool.revision(CLASS)).not.toBe(seen);
    await expect(pool.reserve('stale', CLASS, forever, 'validator-b', seen)).rejects.toBeInstanceOf(PoolChangedError);
    expect(pool.has('stale')).toBe(false);
    expect(pool.holders(CLASS)).toEqual(new Map([['validator-a', 1]]));
    await pool.reserve('fresh', CLASS, forever, 'validator-b', pool.revision(CLASS));
    expect(pool.holders(CLASS)).toEqual(
      new Map([
        ['validator-a', 1],
        ['validator-b', 1],
      ]),
    );
    expect([...pool.holdings()]).toEqual([
      { executorClass: CLASS, validatorHotkey: 'validator-a', held: 1 },
      { executorClass: CLASS, validatorHotkey: 'validator-b', held: 1 },
    ]);
  });

  it('sizes classes from the manifest and refuses a class the manager does not have', async () => {
    makePool({ executors: 2 });
    await pool.reserve('a', CLASS, forever);
    await pool.reserve('b', CLASS, forever);
    await expect(pool.reserve('c', CLASS, forever)).rejects.toBeInstanceOf(AllExecutorsBusyError);
    await expect(pool.reserve('d', 'always_on.gpu-24gb', forever)).rejects.toThrow(/no executors of class always_on.gpu-24gb/);
  });

  it('frees the slot when the executor exits on its own', async () => {
    makePool();
    const { started } = await pool.reserve('short', CLASS, ctx('setTimeout(() => process.exit(4), 100)'));
    await started;
    const event = await until('the exit', () => gone.find((e) => e.token === 'short'));
    expect(event).toMatchObject({ reason: 'exited', status: { state: 'exited', exitCode: 4 } });
    expect(pool.has('short')).toBe(false);
    await (
      await pool.reserve('next', CLASS, forever)
    ).started;
  });

  it('lets the manager release an executor that exited on its own (no record kept per finished job)', async () => {
    makePool();
    const handle = await (await pool.reserve('done', CLASS, ctx('process.exit(0)'))).started;
    expect(await until('the exit', () => gone.find((e) => e.token === 'done'))).toMatchObject({
      reason: 'exited',
      status: { exitCode: 0 },
    });
    // The local manager forgets an executor once it was killed (released); an exited one must not stay behind either.
    const deadline = Date.now() + 2_000;
    const released = async () => {
      const status = await manager.poll(handle);
      return status.state === 'exited' && status.reason === 'unknown executor';
    };
    while (!(await released()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(await manager.poll(handle)).toMatchObject({ state: 'exited', reason: 'unknown executor' });
  });

  it('kills an executor that outlives the TTL, saying so before the kill', async () => {
    makePool({ ttlMs: 300 });
    const { started } = await pool.reserve('old', CLASS, forever);
    const handle = await started;
    const pid = Number(handle.id.replace('local-', ''));
    expect(alive(pid)).toBe(true);
    const event = await until('the expiry', () => gone.find((e) => e.token === 'old'));
    expect(event.reason).toBe('expired');
    expect(expiring).toEqual(['old']);
    expect(alive(pid)).toBe(false);
  });

  it('turns a start failure into ExecutorUnavailableError and frees the slot', async () => {
    makePool();
    const bad: ExecutorStartContext = { ...forever, launch: { argv: [`/nonexistent/${randomUUID()}`], env: {} } };
    const reservation = await pool.reserve('bad', CLASS, bad);
    await expect(reservation.started).rejects.toBeInstanceOf(ExecutorUnavailableError);
    expect(pool.has('bad')).toBe(false);
    await (
      await pool.reserve('after', CLASS, forever)
    ).started;
  });

  it('bounds a start that hangs by spin-up + startup limit: the reservation fails, the slot is freed, a late executor is killed', async () => {
    // The real local manager, except that `start` hands its executor back only when the test lets it.
    let letGo!: () => void;
    const held = new Promise<void>((resolve) => (letGo = resolve));
    const launched: ExecutorHandle[] = [];
    makePool({
      startupLimitMs: 300,
      wrap: (real) => ({
        manifest: () => real.manifest(),
        start: async (token, executorClass, context) => {
          const handle = await real.start(token, executorClass, context);
          launched.push(handle);
          await held;
          return handle;
        },
        poll: (handle) => real.poll(handle),
        kill: (handle) => real.kill(handle),
      }),
    });
    const spinUp1s: ExecutorStartContext = { ...forever, timeoutSeconds: 1 };
    const startedAt = Date.now();
    const reservation = await pool.reserve('hung', CLASS, spinUp1s);
    await expect(reservation.started).rejects.toThrow(/did not start it within 1300 ms/);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1200);
    expect(Date.now() - startedAt).toBeLessThan(3000);
    expect(pool.has('hung')).toBe(false);
    // The slot is free again.
    const next = await pool.reserve('next', CLASS, spinUp1s);
    next.started.catch(() => undefined);

    // The manager finally hands back the first executor: nobody wants it any more, so it is killed.
    const late = await until('the first executor', () => launched[0]);
    const pid = Number(late.id.replace('local-', ''));
    expect(alive(pid)).toBe(true);
    letGo();
    await until('the late executor to be killed', () => (alive(pid) ? undefined : true));
    expect(gone.find((event) => event.token === 'hung')).toBeUndefined(); // it never held a slot again
  });

  it('counts a poll that never answers, or throws, as still running: the round ends on its timer, the TTL still applies, and later rounds go on', async () => {
    // The real local manager, except that the poll of two executors hangs or throws.
    const hanging = new Set<string>();
    const throwing = new Set<string>();
    makePool({
      executors: 3,
      ttlMs: 1_000,
      wrap: (real) => ({
        manifest: () => real.manifest(),
        start: (token, executorClass, context) => real.start(token, executorClass, context),
        poll: (handle) => {
          if (hanging.has(handle.id)) return new Promise(() => {});
          if (throwing.has(handle.id)) throw new Error('poll broke');
          return real.poll(handle);
        },
        kill: (handle) => real.kill(handle),
      }),
    });
    const hung = await (await pool.reserve('hung', CLASS, forever)).started;
    hanging.add(hung.id);
    const broken = await (await pool.reserve('broken', CLASS, forever)).started;
    throwing.add(broken.id);
    // Each round waits at most its 5 s timer for the hung poll; both outlive the 1 s TTL meanwhile.
    const expired = await until(
      'both expiries',
      () => (['hung', 'broken'].every((token) => gone.some((e) => e.token === token)) ? gone : undefined),
      15_000,
    );
    expect(expired.filter((e) => e.token === 'hung' || e.token === 'broken').map((e) => e.reason)).toEqual(['expired', 'expired']);
    expect(expiring.sort()).toEqual(['broken', 'hung']);
    for (const handle of [hung, broken]) expect(alive(Number(handle.id.replace('local-', '')))).toBe(false);
    // The rounds go on: an executor that exits on its own is still seen.
    await pool.reserve('later', CLASS, ctx('setTimeout(() => process.exit(0), 100)'));
    const later = await until('the later exit', () => gone.find((e) => e.token === 'later'), 8_000);
    expect(later.reason).toBe('exited');
  }, 30_000);

  it('kill stops the executor and frees its slot; kill of an unknown token is harmless', async () => {
    makePool();
    const handle = await (await pool.reserve('k', CLASS, forever)).started;
    const pid = Number(handle.id.replace('local-', ''));
    await pool.kill('k');
    expect(alive(pid)).toBe(false);
    expect(pool.has('k')).toBe(false);
    expect(gone.find((e) => e.token === 'k')?.reason).toBe('killed');
    await pool.kill('k');
    await pool.kill('never-existed');
  });

  it('close kills every executor', async () => {
    makePool({ executors: 2 });
    const handles = await Promise.all([
      pool.reserve('x', CLASS, forever).then((r) => r.started),
      pool.reserve('y', CLASS, forever).then((r) => r.started),
    ]);
    await pool.close();
    for (const handle of handles) expect(alive(Number(handle.id.replace('local-', '')))).toBe(false);
  });

  it('release hands the slot on at once while the old executor exits in the background', async () => {
    makePool();
    // An executor that takes a while to exit after its job, as one removing its container does.
    const old = await (await pool.reserve('finished', CLASS, ctx('setTimeout(() => process.exit(0), 600)'))).started;
    pool.release('finished');
    expect(gone.find((e) => e.token === 'finished')?.reason).toBe('released');
    expect(pool.has('finished')).toBe(false);
    await (
      await pool.reserve('next', CLASS, forever)
    ).started;
    expect(alive(Number(old.id.replace('local-', '')))).toBe(true);
    expect(pool.drainingCount(CLASS)).toBe(1);
    expect(pool.usage()).toEqual({ [CLASS]: { capacity: 1, used: 1, draining: 1 } });
    await until('the old executor to finish its cleanup', () => (pool.drainingCount(CLASS) === 0 ? true : undefined));
    expect(pool.usage()).toEqual({ [CLASS]: { capacity: 1, used: 1, draining: 0 } });
  });

  it('kills a released executor that is still running past the drain limit', async () => {
    makePool({ drainLimitMs: 300 });
    const stuck = await (await pool.reserve('stuck', CLASS, forever)).started;
    pool.release('stuck');
    await until('the drain limit kill', () => (pool.drainingCount(CLASS) === 0 ? true : undefined));
    expect(alive(Number(stuck.id.replace('local-', '')))).toBe(false);
  });

  it('keeps the slot until the exit for a manager that cannot start while an executor cleans up (one host each)', async () => {
    makePool({
      wrap: (real) => ({
        manifest: () => real.manifest(),
        start: (token, executorClass, context) => real.start(token, executorClass, context),
        poll: (handle) => real.poll(handle),
        kill: (handle) => real.kill(handle),
      }),
    });
    await (
      await pool.reserve('one-host', CLASS, ctx('setTimeout(() => process.exit(0), 300)'))
    ).started;
    pool.release('one-host');
    expect(pool.has('one-host')).toBe(true);
    await expect(pool.reserve('too-soon', CLASS, forever)).rejects.toBeInstanceOf(AllExecutorsBusyError);
    await until('the exit', () => gone.find((e) => e.token === 'one-host' && e.reason === 'exited'));
    await (
      await pool.reserve('after-exit', CLASS, forever)
    ).started;
  });
});
