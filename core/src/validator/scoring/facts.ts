import type { CycleFacts, HardwareClass, Metagraph, NeuronFact } from '../../contracts/index.js';
import { cryptoReady } from '../../keys/index.js';
import type { CycleRange } from '../cycles.js';
import type { ValidatorStore } from '../store.js';
import { mainHotkeyFacts } from './dance-check.js';
import { verifyValidatorSignatureSync } from './receipt-signature.js';

export function neuronFacts(metagraph: Metagraph): NeuronFact[] {
  return metagraph.neurons.map((neuron) => ({
    uid: neuron.uid,
    hotkey: neuron.hotkey,
    coldkey: neuron.coldkey,
    stake: neuron.stake.total,
    validatorPermit: neuron.validatorPermit,
  }));
}

/** Gathers what the rules read for `cycle` from the store and the metagraph. */
export async function buildCycleFacts(options: {
  readonly store: ValidatorStore;
  readonly cycle: CycleRange;
  readonly metagraph: Metagraph;
  readonly hardwareClasses: readonly HardwareClass[];
}): Promise<CycleFacts> {
  const { store, cycle, metagraph } = options;
  const [jobs, manifests, current, previous, previousBatch, previousManifests] = await Promise.all([
    store.jobOutcomes(cycle.index),
    store.manifests(cycle.index),
    store.mainHotkeys(cycle.index),
    store.mainHotkeys(cycle.index - 1),
    store.batch(cycle.index - 1),
    store.manifests(cycle.index - 1),
    cryptoReady(),
  ]);
  // A dance is paid only on executors seen moving between two batches of this validator.
  const neurons = neuronFacts(metagraph);
  const mainHotkeys = mainHotkeyFacts({ current, previous, neurons, manifests, previousManifests: previousBatch?.status === 'finished' ? previousManifests : null });
  return {
    cycle: { index: cycle.index, startBlock: cycle.startBlock, endBlock: cycle.endBlock },
    netuid: metagraph.netuid,
    validatorHotkey: store.validatorHotkey,
    jobs,
    manifests,
    neurons,
    hardwareClasses: options.hardwareClasses,
    mainHotkeys,
    // Receipts transferred from miners arrive with the receipt-transfer feature; until then only
    // the excuses attached to declines are checked.
    organicStartedReceipts: [],
    verifyValidatorSignature: verifyValidatorSignatureSync,
  };
}
