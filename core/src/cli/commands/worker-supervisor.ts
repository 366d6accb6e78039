import { fork, type ChildProcess } from 'node:child_process';
import cluster from 'node:cluster';

/** Shortest and longest wait before a crashed worker is started again. */
const RESTART_MIN_MS = 1_000;
const RESTART_MAX_MS = 30_000;

export interface WorkerSupervisorOptions {
  /** The command of each worker (`validator`, `facilitator`); it runs as `horde ROLE ...args --workers 1`. */
  readonly role: 'validator' | 'facilitator';
  /** Arguments of one worker (the config path, a port), `--workers 1` added here. */
  readonly args: readonly string[];
  readonly processes: number;
  /**
   * Fork the workers with Node's cluster module so they share this process's listening port (the
   * facilitator: a client or validator that reconnects after a worker died lands on a live one);
   * otherwise each is a plain child (the validator, which listens on nothing shared).
   */
  readonly sharePort?: boolean;
  /** Where the supervisor says what happens (stderr of `horde ROLE --workers N`). */
  readonly say: (line: string) => void;
  /** Messages from the workers (the validator's progress events), relayed to whoever started the supervisor. */
  readonly onMessage?: (message: unknown) => void;
}

/**
 * `horde validator|facilitator --workers N` on one machine: N worker processes of the same config,
 * each `horde ROLE --workers 1` (the pool itself lives in PostgreSQL, so the same command on other
 * machines adds their workers to it). A worker that dies is started again after a backoff that
 * doubles per restart of that worker (its work meanwhile goes to the others); `stop()` sends
 * SIGTERM to every worker and waits for them.
 */
export class WorkerSupervisor {
  private readonly children = new Map<number, ChildProcess>();
  private readonly restarts = new Map<number, number>();
  private stopping = false;

  constructor(private readonly options: WorkerSupervisorOptions) {}

  start(): void {
    const args = [this.options.role, ...this.options.args, '--workers', '1'];
    if (this.options.sharePort) cluster.setupPrimary({ exec: process.argv[1]!, args });
    for (let index = 0; index < this.options.processes; index++) this.spawn(index);
  }

  /** Pids of the running workers, by index. */
  pids(): Map<number, number> {
    return new Map(
      [...this.children].flatMap(([index, child]) =>
        child.pid !== undefined && child.exitCode === null ? [[index, child.pid] as [number, number]] : [],
      ),
    );
  }

  private launch(index: number): ChildProcess {
    const env = { [`HORDE_${this.options.role.toUpperCase()}_WORKER_INDEX`]: String(index) };
    if (this.options.sharePort) return cluster.fork(env).process;
    return fork(process.argv[1]!, [this.options.role, ...this.options.args, '--workers', '1'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  }

  private spawn(index: number): void {
    const child = this.launch(index);
    this.children.set(index, child);
    const { role, say, onMessage } = this.options;
    say(`${role} worker ${index} started (pid ${child.pid ?? '?'})`);
    if (onMessage) child.on('message', (message) => onMessage(message));
    child.once('exit', (code, signal) => {
      this.children.delete(index);
      if (this.stopping) return;
      const restarts = (this.restarts.get(index) ?? 0) + 1;
      this.restarts.set(index, restarts);
      const delay = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** Math.min(restarts - 1, 5));
      say(`${role} worker ${index} exited (${signal ?? `code ${code}`}); starting it again in ${delay / 1000} s`);
      setTimeout(() => {
        if (!this.stopping) this.spawn(index);
      }, delay).unref();
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const exits = [...this.children.values()].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    );
    await Promise.all(exits);
  }
}
