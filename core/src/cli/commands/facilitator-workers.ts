import cluster, { type Worker } from 'node:cluster';

/** Shortest and longest wait before a crashed worker is started again. */
const RESTART_MIN_MS = 1_000;
const RESTART_MAX_MS = 30_000;

export interface FacilitatorSupervisorOptions {
  /** `horde facilitator` arguments of one worker (config path, port), `--workers 1` added here. */
  readonly args: readonly string[];
  readonly processes: number;
  /** Where the supervisor says what happens (stderr of `horde facilitator --workers N`). */
  readonly say: (line: string) => void;
}

/**
 * `horde facilitator --workers N` on one machine: N worker processes of the same config, each
 * `horde facilitator --workers 1`, forked with Node's cluster module so they share the one port
 * (this process holds the listening socket and hands each connection to a worker: a client or a
 * validator reconnecting after a worker died lands on a live one). The pool itself lives in
 * PostgreSQL, so the same command on other machines adds their workers to it. A worker that dies
 * is started again after a backoff; `stop()` sends SIGTERM to every worker and waits for them.
 */
export class FacilitatorWorkerSupervisor {
  private readonly workers = new Map<number, Worker>();
  private readonly restarts = new Map<number, number>();
  private stopping = false;

  constructor(private readonly options: FacilitatorSupervisorOptions) {}

  start(): void {
    cluster.setupPrimary({ exec: process.argv[1]!, args: ['facilitator', ...this.options.args, '--workers', '1'] });
    for (let index = 0; index < this.options.processes; index++) this.spawn(index);
  }

  private spawn(index: number): void {
    const worker = cluster.fork({ HORDE_FACILITATOR_WORKER_INDEX: String(index) });
    this.workers.set(index, worker);
    this.options.say(`facilitator worker ${index} started (pid ${worker.process.pid ?? '?'})`);
    worker.once('exit', (code, signal) => {
      this.workers.delete(index);
      if (this.stopping) return;
      const restarts = (this.restarts.get(index) ?? 0) + 1;
      this.restarts.set(index, restarts);
      const delay = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** Math.min(restarts - 1, 5));
      this.options.say(`facilitator worker ${index} exited (${signal ?? `code ${code}`}); starting it again in ${delay / 1000} s`);
      setTimeout(() => {
        if (!this.stopping) this.spawn(index);
      }, delay).unref();
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.workers.values()].map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            worker.once('exit', () => resolve());
            worker.process.kill('SIGTERM');
          }),
      ),
    );
  }
}
