import { ChainConfigError } from '../errors.js';

/** Public subtensor endpoints (the bittensor SDK's `finney` and `test` networks). */
export const SUBTENSOR_ENDPOINTS: Readonly<Record<'finney' | 'test', string>> = {
  finney: 'wss://entrypoint-finney.opentensor.ai:443',
  test: 'wss://test.finney.opentensor.ai:443',
};

/** The websocket URL of a subtensor network: `finney`, `test`, or a node's `ws://`/`wss://` URL. */
export function subtensorEndpoint(network: string): string {
  if (network === 'finney' || network === 'test') return SUBTENSOR_ENDPOINTS[network];
  if (/^wss?:\/\/\S+$/.test(network)) return network;
  if (network === 'local') {
    throw new ChainConfigError(
      'network "local" is the embedded LocalChain, not a subtensor node; give a node URL such as ws://127.0.0.1:9944 instead',
    );
  }
  throw new ChainConfigError(
    `unknown chain network ${JSON.stringify(network)}: expected "finney", "test", "local" or a ws:// or wss:// URL`,
  );
}
