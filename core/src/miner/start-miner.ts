import { isAbsolute, resolve } from 'node:path';
import {
  CAPACITY_POLICY,
  DANCING_STRATEGY,
  EXECUTOR_MANAGER,
  HARDWARE_CLASS,
  type Chain,
  type Clock,
  type ExecutorManager,
  type Logger,
  type Metrics,
  type Store,
} from '../contracts/index.js';
import type { HordeConfig } from '../config/index.js';
import type { HotkeySourceConfig } from '../config/sections/hotkey.js';
import { openProcess, type OpenedProcess } from '../container/open-process.js';
import { loadHotkey, type Hotkey } from '../keys/index.js';
import { loadPlugins, type LoadedPlugins } from '../plugin/index.js';
import { MinerConfigError } from './errors.js';
import { createMiner, type RunningMiner } from './miner.js';

/** The executor manager a miner uses when no plugin provides one. */
export const DEFAULT_EXECUTOR_MANAGER_PLUGIN = '@horde/executor-manager-local';

/** Replacements for embedding and tests; what is given here is not closed by `close()`. */
export interface StartMinerOptions {
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly clock?: Clock;
  readonly store?: Store;
  /** The chain client of the first hotkey (the others get their own). */
  readonly chain?: Chain;
  readonly hotkeys?: readonly Hotkey[];
  readonly executorManager?: ExecutorManager;
}

export interface MinerProcess extends RunningMiner {
  readonly plugins: LoadedPlugins;
  readonly logger: Logger;
  /** Stops the miner, then closes its plugins, chains and store (newest first). */
  close(): Promise<void>;
}

function absoluteHotkeySource(source: HotkeySourceConfig, baseDir: string): HotkeySourceConfig {
  if ('file' in source && !isAbsolute(source.file)) return { file: resolve(baseDir, source.file) };
  if ('walletsDir' in source && source.walletsDir && !isAbsolute(source.walletsDir))
    return { ...source, walletsDir: resolve(baseDir, source.walletsDir) };
  return source;
}

/** `miner.hotkeys`, or the top-level `hotkey` when that list is empty. */
async function minerHotkeys(config: HordeConfig): Promise<Hotkey[]> {
  const sources =
    config.miner.hotkeys.length > 0 ? config.miner.hotkeys.map((s) => absoluteHotkeySource(s, config.baseDir)) : [config.hotkey];
  return Promise.all(sources.map((source) => loadHotkey(source)));
}

/**
 * One chain client per hotkey, keyed by ss58: a knowledge commitment is always written by its own
 * hotkey. The first is the process's chain; without one (a local-mode miner whose chain could not
 * be opened) there are none.
 */
async function chainsPerHotkey(scope: OpenedProcess<'miner'>, hotkeys: readonly Hotkey[]): Promise<Map<string, Chain>> {
  const chains = new Map<string, Chain>();
  if (!scope.chain) return chains;
  chains.set(hotkeys[0]!.ss58, scope.chain);
  for (const hotkey of hotkeys.slice(1)) {
    try {
      chains.set(hotkey.ss58, await scope.openChain(hotkey));
    } catch (error) {
      // In local mode a missing chain only costs dancing cycles; elsewhere a miner cannot commit without it.
      if (scope.config.miner.localMode === null) throw error;
      scope.logger.warn({ err: error, hotkey: hotkey.ss58 }, 'local mode: no chain client for this hotkey');
      break;
    }
  }
  return chains;
}

/** The plugins' executor manager, or the shipped local one loaded into the same container. */
async function executorManagerOf(scope: OpenedProcess<'miner'>): Promise<ExecutorManager> {
  const provided = scope.plugins.single(EXECUTOR_MANAGER);
  if (provided) return provided;
  scope.logger.info({ plugin: DEFAULT_EXECUTOR_MANAGER_PLUGIN }, 'no plugin provides an executor manager; using the default');
  const fallback = await loadPlugins(
    { ...scope.config, plugins: [{ name: DEFAULT_EXECUTOR_MANAGER_PLUGIN, enabled: true }] },
    scope.container,
  );
  scope.cleanup.add('default executor manager', () => fallback.close());
  const manager = fallback.single(EXECUTOR_MANAGER);
  if (!manager) throw new MinerConfigError(`${DEFAULT_EXECUTOR_MANAGER_PLUGIN} did not provide an executor manager`);
  return manager;
}

/**
 * `horde miner`: a miner from a loaded config. Loads the hotkeys (`miner.hotkeys`, or the top-level
 * `hotkey`), opens the process (`openProcess`: store, chain, plugins), opens a chain client for
 * every further hotkey, picks the executor manager (`@horde/executor-manager-local` when no plugin
 * provides one), the dancing strategy, capacity policy and hardware classes, and starts the miner
 * (`createMiner`). `close()` stops it and closes what this function opened.
 */
export async function startMiner(config: HordeConfig, options: StartMinerOptions = {}): Promise<MinerProcess> {
  const hotkeys = options.hotkeys ?? (await minerHotkeys(config));
  if (hotkeys.length === 0) throw new MinerConfigError('a miner needs at least one hotkey (hotkey or miner.hotkeys)');
  const scope = await openProcess(config, 'miner', {
    ...options,
    chainSigner: hotkeys[0]!,
    // A trusted (local-mode) miner is not on chain; without one it only loses dancing cycles.
    chainOptional: config.miner.localMode !== null,
  });
  try {
    const chains = await chainsPerHotkey(scope, hotkeys);
    const { plugins } = scope;
    const miner = await createMiner({
      settings: config.miner,
      executorSettings: config.executor,
      hotkeys,
      store: scope.store,
      chain: scope.chain,
      chainFor: (hotkey) => {
        const chain = chains.get(hotkey);
        if (!chain) throw new MinerConfigError(`no chain client for hotkey ${hotkey}`);
        return chain;
      },
      netuid: config.chain.netuid,
      executorManager: options.executorManager ?? (await executorManagerOf(scope)),
      dancingStrategy: plugins.single(DANCING_STRATEGY) ?? null,
      capacityPolicy: plugins.single(CAPACITY_POLICY) ?? null,
      hardwareClasses: plugins.all(HARDWARE_CLASS),
      dataDir: config.dataDir,
      logger: scope.logger,
      metrics: scope.metrics,
      clock: scope.clock,
      dashboard: config.dashboard,
    });
    scope.cleanup.add('miner', () => miner.close());
    return { ...miner, plugins, logger: scope.logger, close: () => scope.close() };
  } catch (error) {
    await scope.close();
    throw error;
  }
}
