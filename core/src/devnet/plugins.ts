import { pathToFileURL } from 'node:url';
import { EXECUTOR_MANAGER, HARDWARE_CLASS } from '../contracts/index.js';
import { parseConfig } from '../config/index.js';
import { silentLogger } from '../logging/index.js';
import { createMetricsRegistry } from '../metrics/index.js';
import { isHordePlugin } from '../plugin/define.js';
import { loadPlugins } from '../plugin/loader.js';
import { resolvePluginModule } from '../plugin/resolve-module.js';
import { SystemClock } from '../time/clock.js';
import { createRuntimeContainer } from '../container/container.js';
import { DevnetPreflightError } from './errors.js';

/** A `--miner-plugin`, looked at before anything starts. */
export interface MinerPluginInfo {
  /** As given on the command line (absolute for a path). */
  readonly source: string;
  /** The plugin's own name. */
  readonly name: string;
  /** It provides the miners' ExecutorManager, so the local manager is left out. */
  readonly executorManager: boolean;
}

/** Imports a `--miner-plugin` to see what it provides; a flag naming no plugin stops the devnet here. */
export async function inspectMinerPlugin(source: string, cwd: string): Promise<MinerPluginInfo> {
  const location = resolvePluginModule(source, cwd);
  if (!location.found) throw new DevnetPreflightError(`--miner-plugin ${source}: ${location.reason}`);
  let plugin: unknown;
  try {
    plugin = ((await import(pathToFileURL(location.path).href)) as { default?: unknown }).default;
  } catch (error) {
    throw new DevnetPreflightError(`--miner-plugin ${source}: importing ${location.path} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!isHordePlugin(plugin)) {
    throw new DevnetPreflightError(
      `--miner-plugin ${source}: ${location.path} does not default-export a plugin (export default definePlugin({ ... })); build it first if it is TypeScript`,
    );
  }
  return { source, name: plugin.name, executorManager: plugin.provides.includes(EXECUTOR_MANAGER) };
}

/**
 * The hardware classes the validator will know, found by registering its plugins here as the
 * validator will (a plugin that fails shows now, before any process starts). The devnet weights
 * each of them equally, so a plugin's own executor class scores like the test class.
 */
export async function validatorClassIds(plugins: readonly string[], cwd: string): Promise<string[]> {
  const config = parseConfig({ plugins: [...plugins] }, { baseDir: cwd });
  const root = createRuntimeContainer({
    config,
    logger: silentLogger(),
    metrics: createMetricsRegistry({ defaultMetrics: false }),
    clock: new SystemClock(),
  });
  try {
    const loaded = await loadPlugins(config, root);
    return [...new Set(loaded.all(HARDWARE_CLASS).map((hardwareClass) => hardwareClass.id))];
  } catch (error) {
    throw new DevnetPreflightError(`the validator's plugins do not load: ${(error as Error).message}`, { cause: error });
  }
}
