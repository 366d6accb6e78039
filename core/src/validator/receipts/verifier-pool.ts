import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../contracts/index.js';
import { cryptoReady } from '../../keys/index.js';
import { checkReceiptLines, type LineVerdict } from './receipt-lines.js';

/** Lines per task sent to a worker: small enough that one page keeps every thread busy. */
const LINES_PER_TASK = 256;

/** Checks receipt page lines (parse + both sr25519 signatures). */
export interface ReceiptLineVerifier {
  /** How many threads verify (0 = on the calling thread). */
  readonly threads: number;
  verify(lines: readonly string[], servedHotkeys: ReadonlySet<string>): Promise<LineVerdict[]>;
  close(): Promise<void>;
}

/** Verifies on the event loop: enough for a few miners, and what tests running from sources get. */
export class InThreadVerifier implements ReceiptLineVerifier {
  readonly threads = 0;

  async verify(lines: readonly string[], servedHotkeys: ReadonlySet<string>): Promise<LineVerdict[]> {
    await cryptoReady();
    return checkReceiptLines(lines, servedHotkeys);
  }

  async close(): Promise<void> {}
}

interface PendingTask {
  readonly resolve: (verdicts: LineVerdict[]) => void;
  readonly reject: (error: Error) => void;
}

interface PoolWorker {
  readonly worker: Worker;
  readonly pending: Map<number, PendingTask>;
}

/**
 * Worker threads that verify receipt lines, so that thousands of receipts a second do not stall
 * the validator's websockets. Each call is cut into tasks of `LINES_PER_TASK` lines, given to the
 * least busy worker; verdicts come back in line order.
 */
export class ReceiptVerifierPool implements ReceiptLineVerifier {
  private readonly workers: PoolWorker[];
  private nextId = 0;

  private constructor(
    workerFile: string,
    readonly threads: number,
  ) {
    this.workers = Array.from({ length: threads }, () => {
      const worker = new Worker(workerFile);
      // The pool must never keep a process alive on its own.
      worker.unref();
      const entry: PoolWorker = { worker, pending: new Map() };
      worker.on('message', (message: { id: number; verdicts: LineVerdict[] }) => {
        const task = entry.pending.get(message.id);
        entry.pending.delete(message.id);
        task?.resolve(message.verdicts);
      });
      worker.on('error', (error) => {
        for (const task of entry.pending.values()) task.reject(error);
        entry.pending.clear();
      });
      return entry;
    });
  }

  /** The compiled worker beside this module; absent when core runs from its TypeScript sources. */
  static workerFile(): string {
    return fileURLToPath(new URL('./verify-worker.js', import.meta.url));
  }

  /**
   * `threads` workers, or the in-thread verifier when `threads` is 0 or the compiled worker is not
   * there (core run from sources, as under vitest): verification works either way.
   */
  static create(threads: number, logger?: Logger): ReceiptLineVerifier {
    const file = ReceiptVerifierPool.workerFile();
    if (threads <= 0) return new InThreadVerifier();
    if (!existsSync(file)) {
      logger?.warn({ file }, 'receipt verifier worker not built; verifying receipts on the main thread');
      return new InThreadVerifier();
    }
    return new ReceiptVerifierPool(file, threads);
  }

  private leastBusy(): PoolWorker {
    let best = this.workers[0] as PoolWorker;
    for (const entry of this.workers) if (entry.pending.size < best.pending.size) best = entry;
    return best;
  }

  private run(lines: readonly string[], servedHotkeys: readonly string[]): Promise<LineVerdict[]> {
    const entry = this.leastBusy();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      entry.pending.set(id, { resolve, reject });
      entry.worker.postMessage({ id, lines, servedHotkeys });
    });
  }

  async verify(lines: readonly string[], servedHotkeys: ReadonlySet<string>): Promise<LineVerdict[]> {
    const hotkeys = [...servedHotkeys];
    const tasks: Promise<LineVerdict[]>[] = [];
    for (let i = 0; i < lines.length; i += LINES_PER_TASK) tasks.push(this.run(lines.slice(i, i + LINES_PER_TASK), hotkeys));
    return (await Promise.all(tasks)).flat();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((entry) => entry.worker.terminate()));
  }
}
