// The benchmark miner (miner.mjs) in a process of its own, for benchmarks that time messages
// between a validator and the miner: as in a deployment, the validator's event loop is not the
// miner's. In one process, each synchronous SQLite commit of the miner (fsync included) held the
// validator's reading of a message the miner had already sent, and counted against the miner.
// Options as startBenchMiner's, except what cannot cross a process (manager, onLog).
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { DIST } from './report.mjs';

const { loadHotkey } = await import(join(DIST, 'keys/index.js'));

if (process.argv[2] === '--child') {
  const { startBenchMiner } = await import('./miner.mjs');
  const env = await startBenchMiner(JSON.parse(process.argv[3]));
  process.on('message', async (message) => {
    if (message !== 'close') return;
    await env.close();
    process.exit(0);
  });
  // The benchmark died: so does its miner (and the agents it started, with its store).
  process.once('disconnect', () => {
    void env.close().finally(() => process.exit(1));
  });
  process.send({ url: env.url });
}

/** Starts the miner in a child process; resolves once it listens. */
export async function startBenchMinerProcess(options = {}) {
  if (options.manager || options.onLog)
    throw new Error('startBenchMinerProcess: manager and onLog stay in this process; use startBenchMiner');
  const child = fork(fileURLToPath(import.meta.url), ['--child', JSON.stringify(options)], { stdio: 'inherit' });
  const exited = once(child, 'exit');
  const [ready] = await Promise.race([
    once(child, 'message'),
    exited.then(([code]) => Promise.reject(new Error(`the benchmark miner exited (${code}) before it listened`))),
  ]);
  // The same keys startBenchMiner registers on its chain.
  const minerHotkey = await loadHotkey({ uri: '//Alice' });
  const validators = [];
  for (let i = 0; i < (options.validators ?? 1); i++) validators.push(await loadHotkey({ uri: `//BenchValidator${i}` }));
  return {
    url: ready.url,
    minerHotkey,
    validators,
    pid: child.pid,
    async close() {
      if (child.exitCode === null && child.signalCode === null && child.connected) child.send('close');
      await exited;
    },
  };
}
