import type { Command } from 'commander';
import type { HordeConfig } from '../../config/index.js';
import { describeProvides, formatTable, loadConfigAndPlugins } from './shared.js';

/** A URL without its password, for printing. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

function describeHotkeySource(hotkey: HordeConfig['hotkey']): string {
  // Never print the URI itself: it may be a mnemonic or a seed.
  if ('uri' in hotkey) return 'from hotkey.uri';
  if ('file' in hotkey) return `from ${hotkey.file}`;
  return `wallet "${hotkey.wallet}", hotkey "${hotkey.hotkey}"${hotkey.walletsDir ? ` in ${hotkey.walletsDir}` : ''}`;
}

/** `horde config check`: validate the config, load the hotkey and the plugins, print a summary. */
export function register(program: Command): void {
  const config = program.command('config').description('inspect the configuration');
  config
    .command('check')
    .description('validate the config file, load the hotkey and every plugin; exit 1 with the precise problem otherwise')
    .option('-c, --config <file>', 'config file (default: search the working directory, or HORDE_CONFIG)')
    .action(async (options: { config?: string }) => {
      const { config: loaded, plugins } = await loadConfigAndPlugins(options.config);
      // What a plugin can only check with every plugin registered (the role runs the same checks at start).
      await plugins.validate();
      const { loadHotkey } = await import('../../keys/index.js');
      const hotkey = await loadHotkey(loaded.hotkey);
      const store =
        loaded.store.client === 'sqlite' ? `sqlite ${loaded.store.filename ?? ''}` : `postgres ${redact(loaded.store.url ?? '')}`;
      const rows = [
        ['role', loaded.role],
        ['hotkey', `${hotkey.ss58} (${describeHotkeySource(loaded.hotkey)})`],
        ['chain', `${loaded.chain.network}, netuid ${loaded.chain.netuid}`],
        ['store', store],
        ['data dir', loaded.dataDir],
        ...(plugins.plugins.length
          ? plugins.plugins.map((p, i) => [i === 0 ? 'plugins' : '', `${p.name} ${p.version} (${describeProvides(p.provides)})`])
          : [['plugins', '(none)']]),
      ];
      process.stdout.write(
        `Config OK: ${loaded.configFile ?? 'no config file found; defaults and HORDE_* variables'}\n${indent(formatTable(rows))}\n`,
      );
    });
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
