import { parentPort } from 'node:worker_threads';
import { cryptoReady } from '../../keys/index.js';
import { checkReceiptLines } from './receipt-lines.js';

/** A worker thread of `ReceiptVerifierPool`: checks batches of page lines off the main event loop. */
interface Task {
  readonly id: number;
  readonly lines: readonly string[];
  readonly servedHotkeys: readonly string[];
}

const ready = cryptoReady();
parentPort?.on('message', (task: Task) => {
  void ready.then(() => {
    const verdicts = checkReceiptLines(task.lines, new Set(task.servedHotkeys));
    parentPort?.postMessage({ id: task.id, verdicts });
  });
});
