import { isAbsolute, resolve } from 'node:path';
import {
  CAPACITY_POLICY,
  DANCING_STRATEGY,
  EXECUTOR_MANAGER,
  HARDWARE_CLASS,
  type Chain,
  type Clock,
  type DancingStrategy,
  type ExecutorManager,
  type Logger,
  type Metrics,
  type Store,
} from '../contracts/index.js';
import { openChain } from '../chain/open-chain.js';
import type { HordeConfig } from '../config/index.js';
import { storeOptions } from '../config/store-options.js';
import type { HotkeySourceConfig } from '../config/sections/hotkey.js';
import { loadHotkey, type Hotkey } from '../keys/index.js';
import { createLogger } from '../logging/index.js';
import { createMetricsRegistry } from '../metrics/index.js';
import { instrumentChain } from '../metrics/chain-metrics.js';
import { checkPluginDependencies, loadPlugins, roleInfrastructure, type LoadedPlugins } from '../plugin/index.js';
import { SystemClock } from '../time/clock.js';
import { createRuntimeContainer } from '../container/container.js';
import { openStore } from '../store/index.js';
import { MinerConfigError } from './errors.js';
import { createMiner, type RunningMiner } from './miner.js';

/** The executor manager a miner uses when no plugin provides one. */
export const DEFAULT_EXECUTOR_MANAGER_PLUGIN = '@horde/executor-manager-local';

export interface StartMinerOptions {
  readonly config: HordeConfig;
  /** Replacements for embedding and tests; what is given here is not closed by `close()`. */
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly clock?: Clock;
  readonly store?: Store;
  readonly chain?: Chain;
  readonly hotkeys?: readonly Hotkey[];
  readonly executorManager?: ExecutorManager;
}

export interface StartedMiner extends RunningMiner {
  readonly plugins: LoadedPlugins;
  readonly logger: Logger;
}

function absoluteHotkeySource(source: HotkeySourceConfig, baseDir: string): HotkeySourceConfig {
  if ('file' in source && !isAbsolute(source.file)) return { file: resolve(baseDir, source.file) };
  if ('walletsDir' in source && source.walletsDir && !isAbsolute(source.walletsDir))
    return { ...source, walletsDir: resolve(baseDir, source.walletsDir) };
  return source;
}

/**
 * `horde miner`: everything a miner needs, from a loaded config. Opens the store (migrations run),
 * loads the hotkeys (`miner.hotkeys`, or the top-level `hotkey`), opens the chain, loads the
 * plugins (the executor manager; `@horde/executor-manager-local` when none provides one; the
 * dancing strategy and hardware classes when present) and starts the miner. `close()` stops it and
 * closes what this function opened.
 */
export async function startMiner(options: StartMinerOptions): Promise<StartedMiner> {
  const { config } = options;
  const logger =
    options.logger ??
    createLogger({
      level: config.log.level,
      ...(config.log.file ? { destination: config.log.file } : {}),
      ...(config.log.pretty !== undefined ? { pretty: config.log.pretty } : {}),
    });
  const metrics = options.metrics ?? createMetricsRegistry({ defaultMetrics: config.metrics.defaultMetrics, labels: { role: 'miner' } });
  const clock = options.clock ?? new SystemClock();
  const owned: (() => Promise<void>)[] = [];
  const closeOwned = async () => {
    for (const close of owned.reverse()) await close().catch((error: unknown) => logger.error({ err: error }, 'error while closing'));
  };

  try {
    // Declared plugin dependencies first: a missing contract fails before the store and chain open.
    await checkPluginDependencies(config, roleInfrastructure(config));
    const store = options.store ?? (await openStore(storeOptions(config)));
    if (!options.store) owned.push(() => store.close());

    const sources =
      config.miner.hotkeys.length > 0 ? config.miner.hotkeys.map((s) => absoluteHotkeySource(s, config.baseDir)) : [config.hotkey];
    const hotkeys = options.hotkeys ?? (await Promise.all(sources.map((source) => loadHotkey(source))));
    if (hotkeys.length === 0) throw new MinerConfigError('a miner needs at least one hotkey (hotkey or miner.hotkeys)');

    // One chain client per hotkey: a knowledge commitment is always written by its own hotkey.
    const chains = new Map<string, Chain>();
    const localMode = config.miner.localMode !== null;
    for (const [i, hotkey] of hotkeys.entries()) {
      let chain: Chain | null = i === 0 && options.chain ? options.chain : null;
      if (!chain) {
        try {
          chain = instrumentChain(await openChain(config.chain, hotkey, store, { logger, clock }), metrics);
        } catch (error) {
          // A trusted (local-mode) miner is not on chain; without one it only loses dancing cycles.
          if (!localMode) throw error;
          logger.warn({ err: error }, 'local mode: no chain; dancing uses cycle 0');
          break;
        }
        const opened = chain;
        owned.push(() => opened.close());
      }
      chains.set(hotkey.ss58, chain);
    }
    const mainChain = chains.get(hotkeys[0]!.ss58) ?? null;

    const container = createRuntimeContainer({ config, logger, metrics, clock, store, ...(mainChain ? { chain: mainChain } : {}) });
    const plugins = await loadPlugins(config, container);
    // Closed before the store and chain its implementations may use (closeOwned goes newest first).
    owned.push(() => plugins.close());
    // The same checks as `horde config check`, before anything runs.
    await plugins.validate();
    let executorManager = options.executorManager ?? plugins.single(EXECUTOR_MANAGER);
    if (!executorManager) {
      logger.info({ plugin: DEFAULT_EXECUTOR_MANAGER_PLUGIN }, 'no plugin provides an executor manager; using the default');
      const fallback = await loadPlugins({ ...config, plugins: [{ name: DEFAULT_EXECUTOR_MANAGER_PLUGIN, enabled: true }] }, container);
      executorManager = fallback.single(EXECUTOR_MANAGER);
      if (!executorManager) throw new MinerConfigError(`${DEFAULT_EXECUTOR_MANAGER_PLUGIN} did not provide an executor manager`);
    }
    const dancingStrategy: DancingStrategy | null = plugins.single(DANCING_STRATEGY) ?? null;
    const capacityPolicy = plugins.single(CAPACITY_POLICY) ?? null;

    const miner = await createMiner({
      settings: config.miner,
      executorSettings: config.executor,
      hotkeys,
      store,
      chain: mainChain,
      chainFor: (hotkey) => {
        const chain = chains.get(hotkey);
        if (!chain) throw new MinerConfigError(`no chain client for hotkey ${hotkey}`);
        return chain;
      },
      netuid: config.chain.netuid,
      executorManager,
      dancingStrategy,
      capacityPolicy,
      hardwareClasses: plugins.all(HARDWARE_CLASS),
      dataDir: config.dataDir,
      logger,
      metrics,
      clock,
      dashboard: config.dashboard,
    });
    return {
      ...miner,
      plugins,
      logger,
      close: async () => {
        await miner.close();
        await closeOwned();
      },
    };
  } catch (error) {
    await closeOwned();
    throw error;
  }
}
