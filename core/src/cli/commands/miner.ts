import type { Command } from 'commander';
import { stopRequested } from './shared.js';

/**
 * `horde miner --config F`: serve validators and executors on one port until SIGINT/SIGTERM, then
 * stop cleanly (executors killed, store closed).
 */
export function register(program: Command): void {
  program
    .command('miner')
    .description('run a miner: the validator and executor websockets, receipt pages, /metrics and /healthz on one port')
    .option('-c, --config <file>', 'config file (default: search the working directory, or HORDE_CONFIG)')
    .option('-p, --port <port>', 'port to listen on (overrides miner.port)', (value) => Number.parseInt(value, 10))
    .action(async (options: { config?: string; port?: number }) => {
      const stopped = stopRequested();
      const [{ loadConfig }, { startMiner }] = await Promise.all([import('../../config/index.js'), import('../../miner/start-miner.js')]);
      const loaded = await loadConfig(options.config ? { configPath: options.config } : {});
      const config = options.port === undefined ? loaded : { ...loaded, miner: { ...loaded.miner, port: options.port } };
      const miner = await startMiner(config);
      miner.logger.info({ url: miner.url, hotkeys: miner.hotkeys }, 'miner ready');

      miner.logger.info({ signal: await stopped }, 'shutting down');
      await miner.close();
    });
}
