/**
 * A real miner for end-to-end tests: real store (SQLite file or a fresh PostgreSQL database), the
 * embedded LocalChain on that store (validators registered with permits and stake), the default
 * local executor manager starting real `horde executor` processes (built CLI, core/dist), and the
 * miner's port on 127.0.0.1. Only the chain is local; everything else is what production runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LocalChain } from '../../core/src/chain/local/local-chain.js';
import { executorSection, type ExecutorSection } from '../../core/src/config/sections/executor.js';
import { minerSection, type MinerSection } from '../../core/src/config/sections/miner.js';
import type { DancingStrategy, ExecutorManager, Metrics, Store } from '../../core/src/contracts/index.js';
import { dashboardSection, type DashboardSection } from '../../core/src/config/sections/dashboard.js';
import { loadHotkey, type Hotkey } from '../../core/src/keys/index.js';
import { silentLogger, createLogger } from '../../core/src/logging/index.js';
import { createMetricsRegistry } from '../../core/src/metrics/index.js';
import { createMiner, type RunningMiner } from '../../core/src/miner/miner.js';
import { SystemClock } from '../../core/src/time/clock.js';
import { openStore } from '../../core/src/store/index.js';
import { LocalExecutorManager } from '../../executor-managers/local/src/local-executor-manager.js';
import { TEST_SERVERS_ALLOWLIST } from './egress.js';
import { pgDatabase } from './services.js';

export const NETUID = 12;
export const TEST_CLASS = 'always_on.test';

const cliBuilt = fileURLToPath(new URL('../../core/dist/cli/main.js', import.meta.url));

/** The executor agents are `horde executor` processes: the CLI must be built. */
export function requireBuiltCli(): void {
  if (!existsSync(cliBuilt)) {
    throw new Error('core/dist is missing: the miner starts `horde executor` from the built CLI. Run `npx tsc -b` (npm test does) first.');
  }
}

export interface TestMinerOptions {
  readonly dialect: 'sqlite' | 'postgres';
  /** postgres only: this server's database instead of a fresh one on the shared test server. */
  readonly postgresUrl?: string;
  readonly runner: 'docker' | 'process';
  readonly processImages?: Record<string, string[]>;
  readonly executors?: number;
  readonly miner?: Partial<MinerSection>;
  readonly executor?: Partial<ExecutorSection>;
  /** Replace the local manager (e.g. to count starts); defaults to LocalExecutorManager. */
  readonly manager?: (logger: ReturnType<typeof silentLogger>) => ExecutorManager;
  readonly dancing?: DancingStrategy;
  /** Extra miner hotkeys (dev URIs) served besides //Alice. */
  readonly extraHotkeys?: string[];
  /** The miner's logger (a test that checks what is logged); default silent, or HORDE_TEST_LOG. */
  readonly logger?: ReturnType<typeof silentLogger>;
  /** Serve the dashboard (on a free port unless given). */
  readonly dashboard?: Partial<DashboardSection>;
}

export interface TestMiner {
  readonly miner: RunningMiner;
  readonly url: string;
  readonly minerHotkey: Hotkey;
  readonly hotkeys: Hotkey[];
  /** Validators with a permit and 5000 stake. */
  readonly validatorA: Hotkey;
  readonly validatorB: Hotkey;
  /** Registered, but no validator permit. */
  readonly noPermit: Hotkey;
  readonly chain: LocalChain;
  readonly store: Store;
  readonly dataDir: string;
  /** The registry the miner's metrics are on. */
  readonly metrics: Metrics;
  close(): Promise<void>;
}

export async function startTestMiner(options: TestMinerOptions): Promise<TestMiner> {
  requireBuiltCli();
  const dataDir = mkdtempSync(join(tmpdir(), 'horde-miner-e2e-'));
  let dropDb: (() => Promise<void>) | null = null;
  let store: Store;
  if (options.dialect === 'postgres' && options.postgresUrl) {
    store = await openStore({ client: 'postgres', url: options.postgresUrl });
  } else if (options.dialect === 'postgres') {
    const db = await pgDatabase('horde_miner_e2e');
    dropDb = db.drop;
    store = await openStore({ client: 'postgres', url: db.url });
  } else {
    store = await openStore({ client: 'sqlite', filename: join(dataDir, 'horde.sqlite') });
  }

  const [minerHotkey, validatorA, validatorB, noPermit, ...extra] = await Promise.all(
    ['//Alice', '//Bob', '//Charlie', '//Dave', ...(options.extraHotkeys ?? [])].map((uri) => loadHotkey({ uri })),
  );
  await LocalChain.init(store, { blockTimeMs: 1000, subnets: [{ netuid: NETUID }] });
  const chain = await LocalChain.open({ store, hotkey: minerHotkey!.ss58, netuid: NETUID });
  await chain.ledger.registerNeuron({ netuid: NETUID, hotkey: minerHotkey!.ss58, coldkey: minerHotkey!.ss58 });
  for (const hotkey of extra) await chain.ledger.registerNeuron({ netuid: NETUID, hotkey: hotkey!.ss58, coldkey: minerHotkey!.ss58 });
  for (const validator of [validatorA!, validatorB!]) {
    await chain.ledger.registerNeuron({
      netuid: NETUID,
      hotkey: validator.ss58,
      coldkey: validator.ss58,
      stake: 5000,
      validatorPermit: true,
    });
  }
  await chain.ledger.registerNeuron({
    netuid: NETUID,
    hotkey: noPermit!.ss58,
    coldkey: noPermit!.ss58,
    stake: 5000,
    validatorPermit: false,
  });

  const logger = options.logger ?? (process.env.HORDE_TEST_LOG ? createLogger({ level: 'debug', destination: 'stderr' }) : silentLogger());
  const settings = minerSection.parse({ host: '127.0.0.1', port: 0, manifestCommitIntervalSeconds: 0, ...options.miner });
  const executorSettings = executorSection.parse({
    runner: options.runner,
    processImages: options.processImages ?? {},
    machineSpecs: false,
    egressAllowlist: TEST_SERVERS_ALLOWLIST,
    ...options.executor,
  });
  const manager =
    options.manager?.(logger) ??
    new LocalExecutorManager({ executorClass: TEST_CLASS, executors: options.executors ?? 1, killGraceMs: 3_000, logger });
  const hotkeys = [minerHotkey!, ...extra.map((h) => h!)];
  // Each hotkey commits its own manifest: one chain client per hotkey, as startMiner opens them.
  const chains = new Map<string, LocalChain>([[minerHotkey!.ss58, chain]]);
  for (const hotkey of hotkeys.slice(1)) chains.set(hotkey.ss58, await LocalChain.open({ store, hotkey: hotkey.ss58, netuid: NETUID }));
  const metrics = createMetricsRegistry({ defaultMetrics: false });
  const miner = await createMiner({
    settings,
    executorSettings,
    hotkeys,
    store,
    chain,
    chainFor: (hotkey) => chains.get(hotkey)!,
    netuid: NETUID,
    executorManager: manager,
    dancingStrategy: options.dancing ?? null,
    hardwareClasses: [],
    dataDir,
    logger,
    metrics,
    clock: new SystemClock(),
    ...(options.dashboard ? { dashboard: dashboardSection.parse({ enabled: true, port: 0, ...options.dashboard }) } : {}),
  });

  return {
    miner,
    url: miner.url,
    minerHotkey: minerHotkey!,
    hotkeys,
    validatorA: validatorA!,
    validatorB: validatorB!,
    noPermit: noPermit!,
    chain,
    store,
    dataDir,
    metrics,
    async close() {
      await miner.close();
      for (const c of chains.values()) await c.close();
      await store.close();
      await dropDb?.();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
