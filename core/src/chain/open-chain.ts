import type { Chain, Clock, Logger, Store } from '../contracts/index.js';
import type { ChainSection } from '../config/sections/chain.js';
import { ChainConfigError } from './errors.js';
import type { LocalChainInitOptions } from './local/ledger.js';
import { LocalChain } from './local/local-chain.js';
import type { ChainSigner } from './subtensor/subtensor-chain.js';

export interface OpenChainOptions {
  readonly logger?: Logger;
  /** LocalChain only: the clock blocks are derived from (tests, devnet). */
  readonly clock?: Clock;
}

/**
 * The `Chain` the config names: the embedded LocalChain kept in `store` for `network: local`
 * (created beforehand by `horde chain init` or the devnet), otherwise a SubtensorChain connected to
 * finney, test or the node URL. `hotkey` signs extrinsics; LocalChain accepts null for a read-only
 * or admin handle.
 */
export async function openChain(config: ChainSection, hotkey: ChainSigner | null, store: Store, options: OpenChainOptions = {}): Promise<Chain> {
  if (config.network === 'local') {
    return LocalChain.open({
      store,
      netuid: config.netuid,
      ...(hotkey ? { hotkey: hotkey.ss58 } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
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
    ...(options.logger ? { logger: options.logger } : {}),
  });
}

/** `LocalChain.init` options from the config: one subnet, `config.netuid`, with `config.local`'s settings. */
export function localChainInitOptions(config: ChainSection, overrides: { reset?: boolean } = {}): LocalChainInitOptions {
  const { blockTimeMs, taoWeight, ...subnet } = config.local;
  return { blockTimeMs, taoWeight, subnets: [{ netuid: config.netuid, ...subnet }], ...(overrides.reset ? { reset: true } : {}) };
}
