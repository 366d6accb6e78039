import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutorHandle, ExecutorLaunch, ExecutorManager, ExecutorStartContext, ExecutorStatus, Logger } from '../contracts/index.js';
import { CONTRACT_PROGRAM, ProgramListener } from './contract-programs.js';
import { ContractSetupError, ContractTimeoutError } from './errors.js';

export interface ExecutorManagerContractOptions {
  /** Shown in the suite's name. */
  readonly name: string;
  /** A fresh manager per test. */
  create(): ExecutorManager | Promise<ExecutorManager>;
  /** Runs after each test (after the suite killed what it started); e.g. remove cloud resources. */
  dispose?(manager: ExecutorManager): void | Promise<void>;
  /**
   * Host the started programs connect back to and the suite listens on. Default `127.0.0.1`;
   * a manager that runs executors elsewhere (a container, another machine) passes an address
   * reachable from there, e.g. the docker bridge gateway.
   */
  readonly minerHost?: string;
  /** Interface the suite's listener binds to (default: `minerHost`, or `0.0.0.0` when that is not loopback). */
  readonly listenHost?: string;
  /** Node binary where the executors run (default: this process's `process.execPath`). */
  readonly nodeCommand?: string;
  /** Seconds a started executor may take to connect back (default 30; spin-up for slow classes). */
  readonly startTimeoutSeconds?: number;
  /** Seconds `kill` and process exit may take to show (default 15). */
  readonly stopTimeoutSeconds?: number;
  /** Most executors started at once by the capacity test (default 4), to keep costly managers cheap. */
  readonly maxConcurrentStarts?: number;
}

const silent: Logger = pino({ level: 'silent' });

async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new ContractTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The semantics the miner's executor pool relies on, as a vitest suite. Call it at the top level
 * of a test file of your executor manager:
 *
 *   runExecutorManagerContract({ name: 'my-manager', create: () => new MyManager(...) });
 *
 * Instead of the real agent, the suite asks the manager to start a small Node program (see
 * `CONTRACT_PROGRAM`) that connects back to a listener of the suite, so the suite can see from
 * outside whether an executor runs, whether it got its token, and whether anything is left after
 * `kill`. It proves:
 *  - `manifest()` declares whole, non-negative counts, and every class in it can be started up to
 *    its count at once, each executor getting its own token;
 *  - `poll` says `running` while the executor runs and `exited` once it stopped on its own;
 *  - `kill` stops the executor and everything it started; killing an exited executor is harmless;
 *  - a start that cannot succeed rejects (the pool turns that into `executor_spinup_failed`);
 *  - `close()`, when present, stops every executor.
 */
export function runExecutorManagerContract(options: ExecutorManagerContractOptions): void {
  const minerHost = options.minerHost ?? '127.0.0.1';
  const listenHost = options.listenHost ?? (minerHost === '127.0.0.1' || minerHost === 'localhost' ? minerHost : '0.0.0.0');
  const node = options.nodeCommand ?? process.execPath;
  const startMs = (options.startTimeoutSeconds ?? 30) * 1000;
  const stopMs = (options.stopTimeoutSeconds ?? 15) * 1000;
  const maxStarts = options.maxConcurrentStarts ?? 4;
  const testTimeout = startMs + 2 * stopMs + 10_000;

  describe(`executor manager contract: ${options.name}`, () => {
    const listener = new ProgramListener();
    let minerAddress = '';
    let manager: ExecutorManager;
    let started: ExecutorHandle[] = [];

    beforeAll(async () => {
      const port = await listener.listen(listenHost);
      minerAddress = `ws://${minerHost}:${port}`;
    });
    afterAll(() => listener.close());
    afterEach(async () => {
      if (!manager) return;
      await Promise.all(started.map((handle) => manager.kill(handle).catch(() => undefined)));
      started = [];
      await options.dispose?.(manager);
    });

    async function fresh(): Promise<ExecutorManager> {
      manager = await options.create();
      return manager;
    }

    function context(token: string, mode: 'hold' | 'exit', argv?: readonly string[]): ExecutorStartContext {
      const launch: ExecutorLaunch = {
        argv: argv ?? [node, '-e', CONTRACT_PROGRAM, minerAddress, token, mode],
        env: { MINER_ADDRESS: minerAddress, EXECUTOR_TOKEN: token },
      };
      return { minerAddress, launch, timeoutSeconds: startMs / 1000, logger: silent };
    }

    async function startOne(executorClass: string, mode: 'hold' | 'exit'): Promise<{ token: string; handle: ExecutorHandle }> {
      const token = `${randomUUID()}-${randomUUID()}`;
      const handle = await manager.start(token, executorClass, context(token, mode));
      started.push(handle);
      return { token, handle };
    }

    async function firstClass(m: ExecutorManager): Promise<string> {
      const manifest = await m.manifest();
      const entry = Object.entries(manifest).find(([, count]) => count > 0);
      if (!entry) throw new ContractSetupError('the manifest declares no executor: the contract needs at least one');
      return entry[0];
    }

    const exited = (status: ExecutorStatus) => (status.state === 'exited' ? status : undefined);

    it('declares a manifest of whole, non-negative executor counts, and answers it again cheaply', async () => {
      const m = await fresh();
      const manifest = await m.manifest();
      const counts = Object.values(manifest);
      expect(counts.length, 'manifest lists at least one class').toBeGreaterThan(0);
      for (const [executorClass, count] of Object.entries(manifest)) {
        expect(executorClass.length, 'class ids are non-empty').toBeGreaterThan(0);
        expect(Number.isInteger(count) && count >= 0, `count of ${executorClass} is a whole number ≥ 0`).toBe(true);
      }
      expect(
        counts.some((count) => count > 0),
        'at least one executor is declared',
      ).toBe(true);
      expect(await m.manifest()).toEqual(manifest);
    });

    it(
      'starts as many executors of each class as the manifest declares, each connecting back with its own token',
      async () => {
        const m = await fresh();
        const manifest = await m.manifest();
        let budget = maxStarts;
        const launched: { token: string; handle: ExecutorHandle }[] = [];
        const starts: Promise<void>[] = [];
        for (const [executorClass, count] of Object.entries(manifest)) {
          for (let i = 0; i < count && budget > 0; i += 1, budget -= 1) {
            starts.push(startOne(executorClass, 'hold').then((s) => void launched.push(s)));
          }
        }
        await Promise.all(starts);
        expect(new Set(launched.map((s) => s.handle.id)).size, 'handle ids are unique').toBe(launched.length);
        for (const { token, handle } of launched) {
          const [hello] = await listener.waitFor(token, 1, startMs);
          expect(hello!.hello.env, 'MINER_ADDRESS and EXECUTOR_TOKEN reach the executor').toEqual({ token, minerAddress });
          expect(await m.poll(handle)).toEqual({ state: 'running' });
        }
      },
      testTimeout,
    );

    it(
      'keeps reporting a running executor as running',
      async () => {
        const m = await fresh();
        const { token, handle } = await startOne(await firstClass(m), 'hold');
        await listener.waitFor(token, 1, startMs);
        for (let i = 0; i < 3; i += 1) {
          expect(await m.poll(handle)).toEqual({ state: 'running' });
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
      },
      testTimeout,
    );

    it(
      'kill stops the executor and everything it started, and poll then reports it exited',
      async () => {
        const m = await fresh();
        const { token, handle } = await startOne(await firstClass(m), 'hold');
        // The program and the child it spawned both connect.
        const connections = await listener.waitFor(token, 2, startMs);
        await m.kill(handle);
        await eventually('every process of the killed executor to stop', stopMs, async () =>
          connections.every((c) => c.isClosed()) ? true : undefined,
        );
        await eventually('poll to report the killed executor exited', stopMs, async () => exited(await m.poll(handle)));
        expect(
          listener.byToken(token).every((c) => c.isClosed()),
          'nothing reconnected after kill',
        ).toBe(true);
      },
      testTimeout,
    );

    it(
      'reports an executor that stopped on its own as exited, and killing it then is harmless',
      async () => {
        const m = await fresh();
        const { token, handle } = await startOne(await firstClass(m), 'exit');
        const [connection] = await listener.waitFor(token, 1, startMs);
        await connection!.closed;
        const status = await eventually('poll to report the executor exited', stopMs, async () => exited(await m.poll(handle)));
        // Managers that can see the exit code report it; remote ones may not know it.
        expect([7, null]).toContain(status.exitCode);
        await expect(m.kill(handle)).resolves.toBeUndefined();
        await expect(m.kill(handle)).resolves.toBeUndefined();
        expect((await m.poll(handle)).state).toBe('exited');
      },
      testTimeout,
    );

    it('rejects a start for a class that is not in its manifest', async () => {
      const m = await fresh();
      const manifest = await m.manifest();
      const unknown = `contract.not-a-class-${randomUUID().slice(0, 8)}`;
      expect(manifest[unknown]).toBeUndefined();
      const token = `${randomUUID()}-${randomUUID()}`;
      await expect(m.start(token, unknown, context(token, 'hold'))).rejects.toThrow();
    });

    it(
      'surfaces a launch that cannot run: start rejects, or the executor is reported exited',
      async () => {
        const m = await fresh();
        const executorClass = await firstClass(m);
        const token = `${randomUUID()}-${randomUUID()}`;
        const missing = [`/nonexistent/horde-contract-${randomUUID().slice(0, 8)}`, '--token', token];
        let handle: ExecutorHandle;
        try {
          handle = await m.start(token, executorClass, context(token, 'hold', missing));
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
          return;
        }
        started.push(handle);
        await eventually('poll to report the broken executor exited', startMs, async () => exited(await m.poll(handle)));
      },
      testTimeout,
    );

    it(
      'close() stops every executor it started (when the manager has close)',
      async () => {
        const m = await fresh();
        if (!m.close) return;
        const { token } = await startOne(await firstClass(m), 'hold');
        const connections = await listener.waitFor(token, 2, startMs);
        await m.close();
        await eventually('close() to stop the executor and its children', stopMs, async () =>
          connections.every((c) => c.isClosed()) ? true : undefined,
        );
        started = [];
      },
      testTimeout,
    );
  });
}
