import type { Chain, Clock, Logger, Metrics, Store } from '../contracts/index.js';
import type { HordeConfig } from '../config/index.js';
import { openProcess } from '../container/open-process.js';
import { loadHotkey } from '../keys/index.js';
import { createFacilitator, type FacilitatorHandle } from './server.js';
import { startDashboardServer } from '../dashboard/server.js';
import { facilitatorPage } from './dashboard-page.js';

/** Replacements for embedding and tests; what is given is not closed with the facilitator. */
export interface StartFacilitatorOptions {
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly clock?: Clock;
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
  /** Stops the facilitator, then closes the chain and the store (newest first). */
  close(): Promise<void>;
}

/**
 * `horde facilitator --config F`: opens the process (`openProcess`: the store, and the chain only
 * to read which hotkeys are active validators), serves the `facilitator` section's port
 * (`createFacilitator`) and the dashboard when enabled.
 */
export async function startFacilitator(config: HordeConfig, options: StartFacilitatorOptions = {}): Promise<FacilitatorProcess> {
  // The embedded chain needs no key to be read; a subtensor connection is opened with one.
  const chainSigner = options.chain || config.chain.network === 'local' ? null : await loadHotkey(config.hotkey);
  const scope = await openProcess(config, 'facilitator', { ...options, chainSigner });
  const { logger, metrics, clock } = scope;
  try {
    const handle = await createFacilitator({
      settings: config.facilitator,
      store: scope.store,
      chain: scope.chain,
      netuid: config.chain.netuid,
      logger,
      metrics,
      clock,
    });
    scope.cleanup.add('facilitator', () => handle.close());
    const dashboard = config.dashboard.enabled
      ? await startDashboardServer({
          settings: config.dashboard,
          metrics,
          logger,
          clock,
          page: () => facilitatorPage({ url: handle.url, store: handle.store, hub: handle.hub, now: () => clock.now() }),
        })
      : null;
    if (dashboard) scope.cleanup.add('dashboard', () => dashboard.close());
    return { handle, logger, dashboardUrl: dashboard?.url ?? null, failed: handle.failed, close: () => scope.close() };
  } catch (error) {
    await scope.close();
    throw error;
  }
}
