import { LocalChain } from '../../core/src/chain/local/local-chain.js';
import type { Store } from '../../core/src/contracts/index.js';

export interface LocalSubnetNeurons {
  readonly netuid: number;
  /** Registered with a validator permit and enough stake to set weights. */
  readonly validator: string;
  /** Registered, each serving its axon on 127.0.0.1 at `port`. */
  readonly miners: ReadonlyArray<{ readonly hotkey: string; readonly port: number }>;
}

/**
 * The neurons a validator-process test starts with, on a LocalChain already initialised in
 * `store`: the validator (own coldkey, 60,000 stake, permit) and each miner with its axon served,
 * as the miner would serve it itself. Opens and closes its own chain handles.
 */
export async function registerLocalSubnet(store: Store, subnet: LocalSubnetNeurons): Promise<void> {
  const { netuid } = subnet;
  const admin = await LocalChain.open({ store, netuid });
  try {
    await admin.ledger.registerNeuron({
      netuid,
      hotkey: subnet.validator,
      coldkey: subnet.validator,
      stake: 60_000,
      validatorPermit: true,
    });
    for (const miner of subnet.miners) await admin.ledger.registerNeuron({ netuid, hotkey: miner.hotkey, coldkey: miner.hotkey });
  } finally {
    await admin.close();
  }
  for (const miner of subnet.miners) {
    const chain = await LocalChain.open({ store, netuid, hotkey: miner.hotkey });
    try {
      await chain.serveAxon(netuid, { ip: '127.0.0.1', port: miner.port, protocol: 4, version: 0 });
    } finally {
      await chain.close();
    }
  }
}
