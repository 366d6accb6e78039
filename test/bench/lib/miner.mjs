// A real miner for the benchmarks, as test/support/miner-harness.ts builds one for the tests: SQLite
// store, the embedded LocalChain with registered validators, the local executor manager starting
// real `horde executor` processes from core/dist. Only the chain is local.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST, ROOT } from './report.mjs';

const { LocalChain } = await import(join(DIST, 'chain/local/local-chain.js'));
const { executorSection } = await import(join(DIST, 'config/sections/executor.js'));
const { minerSection } = await import(join(DIST, 'config/sections/miner.js'));
const { loadHotkey } = await import(join(DIST, 'keys/index.js'));
const { silentLogger } = await import(join(DIST, 'logging/index.js'));
const { createMetricsRegistry } = await import(join(DIST, 'metrics/index.js'));
const { createMiner } = await import(join(DIST, 'miner/miner.js'));
const { SystemClock } = await import(join(DIST, 'time/clock.js'));
const { openStore } = await import(join(DIST, 'store/index.js'));
const { LocalExecutorManager } = await import(join(ROOT, 'executor-managers/local/dist/index.js'));

export const NETUID = 12;
export const BENCH_CLASS = 'always_on.test';

/**
 * @param {{ validators?: number, executors?: number, runner?: 'process' | 'docker', processImages?: Record<string, string[]>,
 *           executor?: object, miner?: object, manager?: object, onLog?: (entry: object) => void }} options
 */
export async function startBenchMiner(options = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'horde-bench-miner-'));
  const store = await openStore({ client: 'sqlite', filename: join(dataDir, 'horde.sqlite') });
  const minerHotkey = await loadHotkey({ uri: '//Alice' });
  const validators = [];
  for (let i = 0; i < (options.validators ?? 1); i++) validators.push(await loadHotkey({ uri: `//BenchValidator${i}` }));
  await LocalChain.init(store, { blockTimeMs: 1000, subnets: [{ netuid: NETUID }] });
  const chain = await LocalChain.open({ store, hotkey: minerHotkey.ss58, netuid: NETUID });
  await chain.ledger.registerNeuron({ netuid: NETUID, hotkey: minerHotkey.ss58, coldkey: minerHotkey.ss58 });
  for (const validator of validators) {
    await chain.ledger.registerNeuron({
      netuid: NETUID,
      hotkey: validator.ss58,
      coldkey: validator.ss58,
      stake: 5000,
      validatorPermit: true,
    });
  }
  // `onLog`: every log entry of the miner and of its executor agents (their lines are forwarded).
  const logger = options.onLog
    ? (await import('pino')).default(
        { level: 'info' },
        {
          write: (line) => {
            for (const text of line.split('\n')) if (text) options.onLog(JSON.parse(text));
          },
        },
      )
    : silentLogger();
  const metrics = createMetricsRegistry({ defaultMetrics: false });
  const manager =
    options.manager ??
    new LocalExecutorManager({ executorClass: BENCH_CLASS, executors: options.executors ?? 1, killGraceMs: 3_000, logger });
  const miner = await createMiner({
    settings: minerSection.parse({ host: '127.0.0.1', port: 0, manifestCommitIntervalSeconds: 0, ...options.miner }),
    executorSettings: executorSection.parse({
      runner: options.runner ?? 'process',
      processImages: options.processImages ?? {},
      machineSpecs: false,
      ...options.executor,
    }),
    hotkeys: [minerHotkey],
    store,
    chain,
    netuid: NETUID,
    executorManager: manager,
    dancingStrategy: null,
    hardwareClasses: [],
    dataDir,
    logger,
    metrics,
    clock: new SystemClock(),
  });
  return {
    miner,
    url: miner.url,
    minerHotkey,
    validators,
    metrics,
    async close() {
      await miner.close();
      await chain.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
