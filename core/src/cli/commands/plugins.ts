import type { Command } from 'commander';
import { describeProvides, formatTable, loadConfigAndPlugins } from './shared.js';

/** `horde plugins list`: the plugins the config loads, their versions and the contracts they provide. */
export function register(program: Command): void {
  const plugins = program.command('plugins').description('inspect plugins');
  plugins
    .command('list')
    .description('load the plugins named in the config and list each with its version and the contracts it provides')
    .option('-c, --config <file>', 'config file (default: search the working directory, or HORDE_CONFIG)')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { config?: string; json?: boolean }) => {
      const { config, plugins: loaded } = await loadConfigAndPlugins(options.config);
      if (options.json) {
        process.stdout.write(
          `${JSON.stringify({ configFile: config.configFile, plugins: loaded.plugins, disabled: loaded.disabled }, null, 2)}\n`,
        );
        return;
      }
      const source = config.configFile ?? 'no config file; defaults';
      if (!loaded.plugins.length && !loaded.disabled.length) {
        process.stdout.write(`No plugins configured (${source}).\n`);
        return;
      }
      const rows = [
        ['PLUGIN', 'VERSION', 'PROVIDES'],
        ...loaded.plugins.map((plugin) => [plugin.name, plugin.version, describeProvides(plugin.provides)]),
        ...loaded.disabled.map((name) => [name, '-', '(disabled)']),
      ];
      process.stdout.write(`Plugins from ${source}:\n${formatTable(rows)}\n`);
    });
}
