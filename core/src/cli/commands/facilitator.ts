import type { Command } from 'commander';
import { stopRequested } from './shared.js';

/**
 * `horde facilitator --config F`: the organic-job gateway (clients' HTTP API and validators'
 * websocket on one port) until SIGINT/SIGTERM.
 */
export function register(program: Command): void {
  program
    .command('facilitator')
    .description('run a facilitator: the HTTP API clients (the SDK) submit organic jobs to, and the websocket validators receive them on')
    .option('-c, --config <file>', 'config file (default: search the working directory, or HORDE_CONFIG)')
    .option('-p, --port <port>', 'port to listen on (overrides facilitator.port)', (value) => Number.parseInt(value, 10))
    .action(async (options: { config?: string; port?: number }) => {
      const stopped = stopRequested();
      const [{ loadConfig }, { startFacilitator }] = await Promise.all([
        import('../../config/index.js'),
        import('../../facilitator/from-config.js'),
      ]);
      const loaded = await loadConfig(options.config ? { configPath: options.config } : {});
      const config = {
        ...loaded,
        role: 'facilitator' as const,
        ...(options.port === undefined ? {} : { facilitator: { ...loaded.facilitator, port: options.port } }),
      };
      const facilitator = await startFacilitator(config);
      facilitator.logger.info({ signal: await stopped }, 'facilitator stopping');
      await facilitator.close();
    });
}
