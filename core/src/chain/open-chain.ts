import type { Chain, Clock, Logger, Store } from '../contracts/index.js';
import { openStore, type StoreOptions } from '../store/index.js';
import type { ChainSection } from '../config/sections/chain.js';
import { ChainConfigError } from './errors.js';
import type { LocalChainInitOptions } from './local/ledger.js';
import { LocalChain } from './local/local-chain.js';
import type { ChainSigner } from './subtensor/subtensor-chain.js';
import { definedFields } from '../object/defined-fields.js';

export interface OpenChainOptions {
  readonly logger?: Logger;
  /** LocalChain only: the clock blocks are derived from (tests, devnet). */
  readonly clock?: Clock;
}

/**
 * The store the embedded chain lives in: `chain.local.store` when the config names one (the devnet's
 * processes share a chain but keep their own tables), otherwise the process's own store.
 */
export function localChainStoreOptions(config: ChainSection): StoreOptions | null {
  const store = config.local.store;
  if (!store) return null;
  if (store.client === 'postgres') {
    if (!store.url) throw new ChainConfigError('chain.local.store.url is required when its client is "postgres"');
    return { client: 'postgres', url: store.url, poolMax: store.poolMax };
  }
  if (!store.filename) throw new ChainConfigError('chain.local.store.filename is required when its client is "sqlite"');
  return { client: 'sqlite', filename: store.filename };
}

/**
 * The `Chain` the config names: the embedded LocalChain for `network: local` (created beforehand by
 * `horde chain init` or the devnet), kept in `chain.local.store` or else in `store`; otherwise a
 * SubtensorChain connected to finney, test or the node URL. `hotkey` signs extrinsics; LocalChain
 * accepts null for a read-only or admin handle.
 */
export async function openChain(
  config: ChainSection,
  hotkey: ChainSigner | null,
  store: Store,
  options: OpenChainOptions = {},
): Promise<Chain> {
  if (config.network === 'local') {
    const ownStoreOptions = localChainStoreOptions(config);
    const chainStore = ownStoreOptions ? await openStore(ownStoreOptions) : store;
    return LocalChain.open({
      store: chainStore,
      // A store opened here for the chain alone is closed with it.
      ownsStore: ownStoreOptions !== null,
      netuid: config.netuid,
      ...(hotkey ? { hotkey: hotkey.ss58 } : {}),
      ...definedFields({ clock: options.clock, logger: options.logger }),
    });
  }
  if (!hotkey) throw new ChainConfigError(`a hotkey is needed to use ${config.network}`);
  // Only now: @polkadot/api is heavy and not needed for the local chain.
  const { SubtensorChain } = await import('./subtensor/subtensor-chain.js');
  return SubtensorChain.connect({
    network: config.network,
    hotkey,
    store,
    waitForFinalization: config.subtensor.waitForFinalization,
    submitTimeoutMs: config.subtensor.submitTimeoutMs,
    ...definedFields({ logger: options.logger }),
  });
}

/** `LocalChain.init` options from the config: one subnet, `config.netuid`, with `config.local`'s settings. */
export function localChainInitOptions(config: ChainSection, overrides: { reset?: boolean } = {}): LocalChainInitOptions {
  const { blockTimeMs, taoWeight, ...subnet } = config.local;
  return { blockTimeMs, taoWeight, subnets: [{ netuid: config.netuid, ...subnet }], ...(overrides.reset ? { reset: true } : {}) };
}
