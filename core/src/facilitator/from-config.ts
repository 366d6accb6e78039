import type { Chain, Clock, Logger, Store } from '../contracts/index.js';
import type { HordeConfig } from '../config/index.js';
import { storeOptions } from '../config/store-options.js';
import { openChain } from '../chain/open-chain.js';
import { loadHotkey } from '../keys/index.js';
import { createLogger } from '../logging/index.js';
import { openStore } from '../store/index.js';
import { startFacilitator, type FacilitatorHandle } from './server.js';

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
  close(): Promise<void>;
}

/**
 * `horde facilitator --config F`: opens the store and the chain the config names (the chain only
 * to read which hotkeys are active validators) and serves the `facilitator` section's port.
 */
export async function startFacilitatorFromConfig(config: HordeConfig, options: FacilitatorFromConfigOptions = {}): Promise<FacilitatorProcess> {
  const logger =
    options.logger ??
    createLogger({ level: config.log.level, ...(config.log.pretty !== undefined ? { pretty: config.log.pretty } : {}), ...(config.log.file ? { destination: config.log.file } : {}), base: { role: 'facilitator' } });
  const opened: Array<Store | Chain> = [];
  const closeOpened = async () => {
    for (const resource of opened.reverse()) await resource.close().catch(() => undefined);
  };
  try {
    const store = options.store ?? (await openStore(storeOptions(config)));
    if (!options.store) opened.push(store);
    // The embedded chain needs no key to be read; a subtensor connection is opened with one.
    const signer = config.chain.network === 'local' ? null : await loadHotkey(config.hotkey);
    const chain = options.chain ?? (await openChain(config.chain, signer, store, { logger, ...(options.clock ? { clock: options.clock } : {}) }));
    if (!options.chain) opened.push(chain);
    const handle = await startFacilitator({
      settings: config.facilitator,
      store,
      chain,
      netuid: config.chain.netuid,
      logger,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    return {
      handle,
      logger,
      async close() {
        await handle.close();
        await closeOpened();
      },
    };
  } catch (error) {
    await closeOpened();
    throw error;
  }
}
