import type { Store } from '../contracts/index.js';
import { LocalChain } from '../chain/local/local-chain.js';
import type { DevnetChainSettings } from './configs.js';
import type { DevnetKeys } from './keys.js';

/** The validator's stake: far above a miner's `minValidatorStake` (1000) and any excuse threshold. */
export const DEVNET_VALIDATOR_STAKE = 100_000;

/**
 * Creates the LocalChain in `store` (genesis now: blocks start counting) with one subnet, then
 * registers the validator (stake and validator permit) and every miner hotkey under its coldkey, in
 * order, so the validator is uid 0 and the miners follow. The trusted miner stays off chain.
 * Returns an admin handle on the chain (no hotkey); the caller closes it.
 */
export async function setupChain(store: Store, settings: DevnetChainSettings, keys: DevnetKeys): Promise<LocalChain> {
  await LocalChain.init(store, {
    blockTimeMs: settings.blockTimeMs,
    subnets: [
      {
        netuid: settings.netuid,
        tempo: settings.tempo,
        weightsRateLimit: settings.weightsRateLimit,
        commitRevealEnabled: settings.commitRevealEnabled,
        revealPeriodEpochs: settings.revealPeriodEpochs,
        commitRevealVersion: settings.commitRevealVersion,
        // Miners announce their axon once at start; a dancer announces two hotkeys.
        servingRateLimit: 0,
      },
    ],
  });
  const chain = await LocalChain.open({ store, netuid: settings.netuid });
  await chain.registerNeuron({
    hotkey: keys.validator.hotkey.ss58,
    coldkey: keys.validator.coldkey.ss58,
    stake: DEVNET_VALIDATOR_STAKE,
    validatorPermit: true,
  });
  for (const miner of keys.miners) {
    for (const hotkey of miner.hotkeys) await chain.registerNeuron({ hotkey: hotkey.ss58, coldkey: miner.coldkey.ss58 });
  }
  return chain;
}
