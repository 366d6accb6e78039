import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import {
  definePlugin,
  definePluginError,
  EXECUTOR_MANAGER,
  localAgentEnv,
  z,
  type ExecutorHandle,
  type ExecutorManager,
  type ExecutorStartContext,
  type ExecutorStatus,
  type Logger,
  type Manifest,
} from '@horde/core';

/*
 * {{packageName}}: an executor manager for horde miners.
 *
 * A miner hands every job to an executor: a short-lived `horde executor` agent that connects back
 * to the miner, runs the job and exits. The executor manager decides where such agents run (here:
 * as subprocesses of the miner, like @horde/executor-manager-local; yours might start containers,
 * SSH into other machines or rent cloud GPUs). The miner's runtime does everything else: one pool
 * per executor class sized from `manifest()`, reservations and busy declines, the per-executor
 * TTL, the single-use tokens. So a manager only has to:
 *   manifest()  say how many executors of which class it can run at once (called often: be cheap);
 *   start()     launch the agent with the argv and environment the runtime provides;
 *   poll()      tell whether it still runs (called every second);
 *   kill()      stop it and everything it started (harmless when it already exited).
 * `close()` stops everything at miner shutdown. A thrown `start` reaches the validator as the horde
 * failure `executor_spinup_failed`.
 */

/** The plugin's settings: its `config` section in horde.config.yaml, validated before it runs. */
export const {{pluginVar}}Config = z.strictObject({
  /** The executor class this manager's executors belong to (a HardwareClass id). */
  executorClass: z.string().min(1).default('always_on.test'),
  /** How many executors may run at once. */
  executors: z.number().int().min(0).default(1),
  /** Milliseconds between SIGTERM and SIGKILL when an executor is killed. */
  killGraceMs: z.number().int().min(0).default(5_000),
});

export type {{className}}Config = z.output<typeof {{pluginVar}}Config>;

/**
 * The manager refused to start an executor (a class it does not run, none free, an empty command
 * line). A typed error with a stable code, as horde's own managers throw; the miner reports it to
 * the validator as `executor_spinup_failed`.
 */
export class {{className}}StartError extends definePluginError('{{name}}:START_REFUSED', 'the executor manager refused to start an executor') {}

/** What the manager keeps per started executor; the runtime only holds the `{ id }` handle. */
interface RunningExecutor {
  readonly child: ChildProcess;
  /** Settles when the process has exited (whatever the reason). */
  readonly exited: Promise<void>;
  status: ExecutorStatus;
}

export class {{className}}ExecutorManager implements ExecutorManager {
  private readonly executors = new Map<string, RunningExecutor>();

  constructor(
    private readonly config: {{className}}Config,
    private readonly logger: Logger,
  ) {}

  async manifest(): Promise<Manifest> {
    return { [this.config.executorClass]: this.config.executors };
  }

  async start(token: string, executorClass: string, ctx: ExecutorStartContext): Promise<ExecutorHandle> {
    // The runtime starts only what the manifest declares, but a manager still refuses what it cannot do.
    if (executorClass !== this.config.executorClass) {
      throw new {{className}}StartError(`{{name}} runs ${this.config.executorClass} executors, not ${executorClass}`);
    }
    const running = [...this.executors.values()].filter((executor) => executor.status.state === 'running').length;
    if (running >= this.config.executors) throw new {{className}}StartError(`all ${this.config.executors} executors are busy`);
    const [command, ...args] = ctx.launch.argv;
    if (!command) throw new {{className}}StartError('empty executor command line');

    const child = spawn(command, args, {
      // This machine's environment with the launch's over it (localAgentEnv defers NODE_EXTRA_CA_CERTS:
      // node 20 would parse it at every agent start).
      env: localAgentEnv(ctx.launch),
      // Its own process group, so `kill` reaches the agent and everything it started in one call.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Resolve once the process exists; a missing program (ENOENT) rejects, which the validator hears about.
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });

    const id = `{{name}}-${child.pid}`;
    const logger = ctx.logger.child({ executor: id });
    child.on('error', (error) => logger.error({ err: error }, 'executor process error'));
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => logger.info({ output: line }, 'executor output'));
    }
    const executor: RunningExecutor = {
      child,
      status: { state: 'running' },
      exited: once(child, 'exit').then(([code, signal]) => {
        executor.status = { state: 'exited', exitCode: code as number | null, ...(signal ? { reason: `killed by ${String(signal)}` } : {}) };
        // Whatever the agent left behind in its group goes with it.
        signalGroup(child, 'SIGKILL');
      }),
    };
    this.executors.set(id, executor);
    this.logger.info({ executor: id, executorClass, pid: child.pid }, 'executor started');
    return { id };
  }

  async poll(handle: ExecutorHandle): Promise<ExecutorStatus> {
    // Unknown (already killed and forgotten): nothing runs, so say exited rather than throw.
    return this.executors.get(handle.id)?.status ?? { state: 'exited', exitCode: null, reason: 'unknown executor' };
  }

  async kill(handle: ExecutorHandle): Promise<void> {
    const executor = this.executors.get(handle.id);
    if (!executor) return;
    if (executor.status.state === 'running') {
      // SIGTERM first, so the agent can stop its job container and clean up; SIGKILL after the grace time.
      signalGroup(executor.child, 'SIGTERM');
      const graceOver = new Promise((resolve) => setTimeout(resolve, this.config.killGraceMs).unref());
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
  // No pid: the process never started. (Never signal -0: that is our own process group.)
  if (child.pid === undefined) return;
  try {
    // A negative pid addresses the whole process group the agent leads.
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: nothing left to signal.
  }
}

/**
 * The plugin: what horde imports when horde.config.yaml lists this package. A miner uses exactly
 * one executor manager, so list this plugin instead of @horde/executor-manager-local.
 */
export default definePlugin({
  name: '{{packageName}}',
  // Keep in step with package.json (a test checks it); `horde plugins list` shows it.
  version: '0.1.0',
  // The plugin API versions this code is written for; horde refuses to load it elsewhere.
  apiRange: '^1.0.0',
  description: '{{description}}',
  provides: [EXECUTOR_MANAGER],
  configSchema: {{pluginVar}}Config,
  register(ctx) {
    ctx.provide(EXECUTOR_MANAGER, { useValue: new {{className}}ExecutorManager(ctx.config, ctx.logger) });
  },
});
