import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { forwardAgentOutput, localAgentEnv } from '@horde/core';
import type { ExecutorHandle, ExecutorManager, ExecutorStartContext, ExecutorStatus, Logger, Manifest } from '@horde/core';
import { LocalExecutorStartError } from './errors.js';

export interface LocalExecutorManagerOptions {
  /** The executor class this machine offers, e.g. `always_on.cpu.8c.16gb`. */
  readonly executorClass: string;
  /** How many executors may run at once. The stock miner runs one. */
  readonly executors: number;
  /** Milliseconds between SIGTERM and SIGKILL when killing an executor. */
  readonly killGraceMs: number;
  readonly logger: Logger;
  /**
   * Where clients reach this machine's executors (streaming jobs connect to it). Default null:
   * the miner then uses the address the executor connected from, which is right only when
   * clients can reach the miner's machine at that address (a devnet, one host).
   */
  readonly publicAddress?: string | null;
}

/** What we keep per started executor. The handle the runtime holds is just `{ id }`. */
interface LocalExecutor {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  status: ExecutorStatus;
  /** The runtime let go of it (`released` or `kill`), so it no longer counts against capacity. */
  stopping: boolean;
}

/**
 * The default executor manager: runs each executor agent as a subprocess of the miner, on the
 * miner's own machine (ComputeHorde's `DevExecutorManager`).
 *
 * It is also the model to copy when writing a manager. The whole contract is: say what you can run
 * (`manifest`), start an agent with the argv and env the runtime hands you (`start`), tell whether
 * it still runs (`poll`) and stop it with everything it started (`kill`). The runtime does all the
 * rest: reservations, busy declines, TTLs, tokens and talking to validators.
 */
export class LocalExecutorManager implements ExecutorManager {
  private readonly executors = new Map<string, LocalExecutor>();
  /** Agents are processes on one machine: a new one can start while a finished one is still exiting. */
  readonly startsWhileCleaningUp = true;

  constructor(private readonly options: LocalExecutorManagerOptions) {}

  async manifest(): Promise<Manifest> {
    // Static: this machine's class and how many agents it runs at once. A manager that rents
    // machines would count the ones it can get here (and cache the answer: this runs on every
    // reservation).
    return { [this.options.executorClass]: this.options.executors };
  }

  /** Every executor runs on this machine: its one public address. */
  async publicAddress(_handle: ExecutorHandle): Promise<string | null> {
    return this.options.publicAddress ?? null;
  }

  async start(token: string, executorClass: string, ctx: ExecutorStartContext): Promise<ExecutorHandle> {
    // The runtime only starts classes from the manifest and never more than it declares, but a
    // manager must still refuse what it cannot do: a thrown error becomes `executor_spinup_failed`.
    if (executorClass !== this.options.executorClass) {
      throw new LocalExecutorStartError(`this machine runs ${this.options.executorClass} executors, not ${executorClass}`);
    }
    // Never more agents at once than the manifest declares, whoever asks.
    const running = [...this.executors.values()].filter((executor) => executor.status.state === 'running' && !executor.stopping).length;
    if (running >= this.options.executors) throw new LocalExecutorStartError(`all ${this.options.executors} executors are busy`);
    const [command, ...args] = ctx.launch.argv;
    if (!command) throw new LocalExecutorStartError('empty executor command line');

    const child = spawn(command, args, {
      // The miner's environment with the launch's over it (and its extra CA file deferred: localAgentEnv).
      env: localAgentEnv(ctx.launch),
      // Own process group: `kill` signals the agent and anything it started, in one call.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Resolve once the process exists, or throw (e.g. ENOENT) so the failure reaches the validator.
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });

    const id = `local-${child.pid}`;
    const logger = ctx.logger.child({ executor: id });
    child.on('error', (error) => logger.error({ err: error }, 'executor agent process error'));
    forwardAgentOutput(child.stdout!, logger);
    forwardAgentOutput(child.stderr!, logger);

    const executor: LocalExecutor = {
      child,
      status: { state: 'running' },
      stopping: false,
      exited: once(child, 'exit').then(([code, signal]) => {
        executor.status = {
          state: 'exited',
          exitCode: code as number | null,
          ...(signal ? { reason: `killed by ${String(signal)}` } : {}),
        };
        // Anything the agent left behind in its group goes with it.
        signalGroup(child, 'SIGKILL');
        // One the runtime let go of is forgotten once gone (a released one gets no `kill`).
        if (executor.stopping) this.executors.delete(id);
      }),
    };
    this.executors.set(id, executor);
    logger.info({ token, pid: child.pid }, 'executor agent started');
    return { id };
  }

  async poll(handle: ExecutorHandle): Promise<ExecutorStatus> {
    // An unknown handle has nothing running: report it exited rather than throwing.
    return this.executors.get(handle.id)?.status ?? { state: 'exited', exitCode: null, reason: 'unknown executor' };
  }

  released(handle: ExecutorHandle): void {
    // Its job ended: it exits by itself (cleaning up its container) while the next one starts.
    const executor = this.executors.get(handle.id);
    if (executor) executor.stopping = true;
  }

  async kill(handle: ExecutorHandle): Promise<void> {
    const executor = this.executors.get(handle.id);
    if (!executor) return;
    executor.stopping = true;
    if (executor.status.state === 'running') {
      // SIGTERM first: the agent then stops its job container and removes its temp dir.
      signalGroup(executor.child, 'SIGTERM');
      const graceOver = new Promise((resolve) => setTimeout(resolve, this.options.killGraceMs).unref());
      await Promise.race([executor.exited, graceOver]);
      signalGroup(executor.child, 'SIGKILL');
    }
    await executor.exited;
    this.executors.delete(handle.id);
  }

  async close(): Promise<void> {
    await Promise.all([...this.executors.keys()].map((id) => this.kill({ id })));
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  // No pid: the process never started. (Never signal -0: that is the miner's own process group.)
  if (child.pid === undefined) return;
  try {
    // A negative pid addresses the whole process group the agent leads.
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: nothing left to signal.
  }
}
