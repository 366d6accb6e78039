import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type HordeConfigInput } from '../config/index.js';
import type { Chain, Clock, ObjectStore, Store } from '../contracts/index.js';
import { silentLogger } from '../logging/index.js';
import { createMetricsRegistry } from '../metrics/index.js';
import { loadPlugins, registerPlugins, type LoadedPlugins } from '../plugin/index.js';
import { SystemClock } from '../time/clock.js';
import { createRuntimeContainer } from '../container/container.js';
import type { DependencyContainer } from '../container/di.js';
import { definedFields } from '../object/defined-fields.js';

export interface RegisterPluginOptions {
  /** The plugin's config section, as a user would write it under `plugins[i].config`. */
  readonly config?: Record<string, unknown>;
  /** Infrastructure the plugin's factories may resolve; silent logger and wall clock by default. */
  readonly clock?: Clock;
  readonly store?: Store;
  readonly chain?: Chain;
  readonly objectStore?: ObjectStore;
  /** The plugin's data directory root; default a new temporary directory. */
  readonly dataDir?: string;
}

/**
 * Registers one plugin (the default export of a plugin module) the way a horde process does (apiRange, config schema and provided tokens
 * are checked first; the plugin gets its own child container) and returns what it provides:
 * `(await registerPluginForTest(plugin, { config })).all(SCORING_RULE)`. Throws the same
 * `PluginError` a process would.
 */
export async function registerPluginForTest(
  plugin: unknown,
  options: RegisterPluginOptions = {},
): Promise<Omit<LoadedPlugins, 'disabled'>> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'horde-plugin-test-'));
  const root = createRuntimeContainer({
    config: parseConfig({ plugins: [], dataDir }, { baseDir: dataDir }),
    logger: silentLogger(),
    metrics: createMetricsRegistry({ defaultMetrics: false }),
    clock: options.clock ?? new SystemClock(),
    ...definedFields({ store: options.store, chain: options.chain, objectStore: options.objectStore }),
  });
  return registerPlugins([{ plugin, config: options.config ?? {} }], root, { dataDir, configFile: null });
}

/**
 * Loads the plugins a config names (package names or paths relative to `baseDir`), through the
 * same loader a process uses: what a test of "a user writes this in horde.config.yaml" needs.
 * Returns what they provide and the root container they registered into.
 */
export async function loadPluginsForTest(
  config: Pick<HordeConfigInput, 'plugins'>,
  options: { readonly baseDir: string },
): Promise<{ loaded: LoadedPlugins; root: DependencyContainer }> {
  const parsed = parseConfig(config, { baseDir: options.baseDir });
  const root = createRuntimeContainer({
    config: parsed,
    logger: silentLogger(),
    metrics: createMetricsRegistry({ defaultMetrics: false }),
    clock: new SystemClock(),
  });
  return { loaded: await loadPlugins(parsed, root), root };
}
