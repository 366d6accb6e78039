import type { HordeConfig } from '../../config/index.js';
import type { LoadedPlugins } from '../../plugin/index.js';
import { definedFields } from '../../object/defined-fields.js';

/** Loads the config named by `--config` (or found by search) and its plugins, with logs on stderr. */
export async function loadConfigAndPlugins(configPath: string | undefined): Promise<{ config: HordeConfig; plugins: LoadedPlugins }> {
  const [
    { loadConfig },
    { createLogger },
    { createMetricsRegistry },
    { createRuntimeContainer },
    { SystemClock },
    { loadPlugins, roleInfrastructure },
  ] = await Promise.all([
    import('../../config/index.js'),
    import('../../logging/index.js'),
    import('../../metrics/index.js'),
    import('../../container/container.js'),
    import('../../time/clock.js'),
    import('../../plugin/index.js'),
  ]);
  const config = await loadConfig(configPath ? { configPath } : {});
  // stdout is the command's answer; logs go to stderr, and only warnings unless asked for more.
  const level = config.log.level === 'info' ? 'warn' : config.log.level;
  const logger = createLogger({ level, destination: 'stderr', ...definedFields({ pretty: config.log.pretty }) });
  const root = createRuntimeContainer({
    config,
    logger,
    metrics: createMetricsRegistry({ defaultMetrics: false }),
    clock: new SystemClock(),
  });
  // Checked as the role process will run them: with its store, chain (and object store if configured).
  const plugins = await loadPlugins(config, root, { infrastructure: roleInfrastructure(config) });
  return { config, plugins };
}

// One table formatter for the CLI and the devnet summary.
export { formatTable } from '../../format/table.js';

/** `HardwareClass ×7, ScoringRule` */
export function describeProvides(provides: LoadedPlugins['plugins'][number]['provides']): string {
  if (!provides.length) return '-';
  return provides.map(({ contract, count }) => (count > 1 ? `${contract} ×${count}` : contract)).join(', ');
}

/**
 * Resolves with the signal (or `disconnect`, when started with an IPC channel that closes) that
 * asks a long-running role to stop. Call it before starting the role: a SIGTERM that arrives while
 * the role is still starting then stops it as soon as it is up, instead of killing the process
 * with the default handler before it could clean up.
 */
export function stopRequested(options: { readonly onDisconnect?: boolean } = {}): Promise<NodeJS.Signals | 'disconnect'> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals | 'disconnect') => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.off('disconnect', onDisconnect);
      resolve(signal);
    };
    const onDisconnect = () => stop('disconnect');
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (options.onDisconnect) process.on('disconnect', onDisconnect);
  });
}
