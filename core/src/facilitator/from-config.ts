import type { Chain, Clock, Logger, Store } from '../contracts/index.js';
import type { HordeConfig } from '../config/index.js';
import { storeOptions } from '../config/store-options.js';
import { openChain } from '../chain/open-chain.js';
import { loadHotkey } from '../keys/index.js';
import { createLogger } from '../logging/index.js';
import { openStore } from '../store/index.js';
import { startFacilitator, type FacilitatorHandle } from './server.js';
import { SystemClock } from '../time/clock.js';
import { createMetricsRegistry } from '../metrics/index.js';
import { instrumentChain } from '../metrics/chain-metrics.js';
import { startDashboardServer, type DashboardServer } from '../dashboard/server.js';
import { facilitatorPage } from './dashboard-page.js';

export interface FacilitatorFromConfigOptions {
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Given resources are not closed with the facilitator. */
  readonly store?: Store;
  readonly chain?: Chain;
}

export interface FacilitatorProcess {
  readonly handle: FacilitatorHandle;
  readonly logger: Logger;
  /** Address of the dashboard, or null when it is not enabled. */
  readonly dashboardUrl: string | null;
  /** Settles when the facilitator cannot go on (a worker lost its PostgreSQL session): close it and exit non-zero. */
  readonly failed: Promise<Error>;
  close(): Promise<void>;
}

/**
 * `horde facilitator --config F`: opens the store and the chain the config names (the chain only
 * to read which hotkeys are active validators) and serves the `facilitator` section's port.
 */
export async function startFacilitatorFromConfig(
  config: HordeConfig,
  options: FacilitatorFromConfigOptions = {},
): Promise<FacilitatorProcess> {
  const logger =
    options.logger ??
    createLogger({
      level: config.log.level,
      ...(config.log.pretty !== undefined ? { pretty: config.log.pretty } : {}),
      ...(config.log.file ? { destination: config.log.file } : {}),
      base: { role: 'facilitator' },
    });
  const opened: Array<Store | Chain> = [];
  const closeOpened = async () => {
    for (const resource of opened.reverse()) await resource.close().catch(() => undefined);
  };
  try {
    const store = options.store ?? (await openStore(storeOptions(config)));
    if (!options.store) opened.push(store);
    // The embedded chain needs no key to be read; a subtensor connection is opened with one.
    const signer = config.chain.network === 'local' ? null : await loadHotkey(config.hotkey);
    const metrics = createMetricsRegistry({ defaultMetrics: config.metrics.defaultMetrics, labels: { role: 'facilitator' } });
    const openedChain =
      options.chain ?? (await openChain(config.chain, signer, store, { logger, ...(options.clock ? { clock: options.clock } : {}) }));
    if (!options.chain) opened.push(openedChain);
    const chain = instrumentChain(openedChain, metrics);
    const handle = await startFacilitator({
      settings: config.facilitator,
      store,
      chain,
      netuid: config.chain.netuid,
      logger,
      metrics,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    let dashboard: DashboardServer | null = null;
    if (config.dashboard.enabled) {
      const clock = options.clock ?? new SystemClock();
      try {
        dashboard = await startDashboardServer({
          settings: config.dashboard,
          metrics,
          logger,
          clock,
          page: () => facilitatorPage({ url: handle.url, store: handle.store, hub: handle.hub, now: () => clock.now() }),
        });
      } catch (error) {
        await handle.close();
        throw error;
      }
    }
    return {
      handle,
      logger,
      dashboardUrl: dashboard?.url ?? null,
      failed: handle.failed,
      async close() {
        await dashboard?.close();
        await handle.close();
        await closeOpened();
      },
    };
  } catch (error) {
    await closeOpened();
    throw error;
  }
}
