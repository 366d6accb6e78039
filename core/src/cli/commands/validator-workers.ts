import { fork, type ChildProcess } from 'node:child_process';

/** Shortest and longest wait before a crashed worker is started again. */
const RESTART_MIN_MS = 1_000;
const RESTART_MAX_MS = 30_000;

export interface WorkerSupervisorOptions {
  /** `horde validator` arguments of one worker (the config path), `--workers 1` added here. */
  readonly args: readonly string[];
  readonly processes: number;
  /** Where the supervisor says what happens (stderr of `horde validator --workers N`). */
  readonly say: (line: string) => void;
  /** Messages from the workers (progress events), relayed to whoever started the supervisor. */
  readonly onMessage?: (message: unknown) => void;
}

/**
 * `horde validator --workers N` on one machine: N worker processes of the same config, each
 * `horde validator --workers 1` (the pool itself lives in PostgreSQL, so the same command on
 * other machines adds their workers to it). A worker that dies is started again after a backoff
 * (its tasks meanwhile run again on the others); `stop()` sends SIGTERM to every worker and waits
 * for them.
 */
export class WorkerSupervisor {
  private readonly children = new Map<number, ChildProcess>();
  private readonly restarts = new Map<number, number>();
  private stopping = false;

  constructor(private readonly options: WorkerSupervisorOptions) {}

  start(): void {
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

  private spawn(index: number): void {
    const cli = process.argv[1]!;
    const child = fork(cli, ['validator', ...this.options.args, '--workers', '1'], {
      env: { ...process.env, HORDE_VALIDATOR_WORKER_INDEX: String(index) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.children.set(index, child);
    this.options.say(`validator worker ${index} started (pid ${child.pid ?? '?'})`);
    child.on('message', (message) => this.options.onMessage?.(message));
    child.once('exit', (code, signal) => {
      this.children.delete(index);
      if (this.stopping) return;
      const restarts = (this.restarts.get(index) ?? 0) + 1;
      this.restarts.set(index, restarts);
      const delay = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** Math.min(restarts - 1, 5));
      this.options.say(`validator worker ${index} exited (${signal ?? `code ${code}`}); starting it again in ${delay / 1000} s`);
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
