import type { CycleFacts, HardwareClass, Metagraph, NeuronFact } from '../../contracts/index.js';
import { cryptoReady } from '../../keys/index.js';
import type { CycleRange } from '../cycles.js';
import type { TransferredReceiptsRepository } from '../receipts/store.js';
import type { ValidatorStore } from '../store.js';
import { mainHotkeyFacts } from './dance-check.js';
import { verifyValidatorSignatureSync } from '../../protocol/receipt-signature.js';

export function neuronFacts(metagraph: Metagraph): NeuronFact[] {
  return metagraph.neurons.map((neuron) => ({
    uid: neuron.uid,
    hotkey: neuron.hotkey,
    coldkey: neuron.coldkey,
    stake: neuron.stake.total,
    validatorPermit: neuron.validatorPermit,
  }));
}

/**
 * How far before a cycle's batch transferred receipts are read: an organic job accepted that long
 * ago may still hold an executor (ComputeHorde caps a job at 1 h of executor time, plus spin-up).
 */
export const RECEIPT_LOOKBACK_MS = 2 * 3_600_000;

/** Gathers what the rules read for `cycle` from the store and the metagraph. */
export async function buildCycleFacts(options: {
  readonly store: ValidatorStore;
  /** Receipts transferred from miners; without it the facts carry none. */
  readonly transferredReceipts?: TransferredReceiptsRepository;
  /** When the cycle is scored (ms): the newest receipt read. */
  readonly scoredAt?: number;
  readonly cycle: CycleRange;
  readonly metagraph: Metagraph;
  readonly hardwareClasses: readonly HardwareClass[];
}): Promise<CycleFacts> {
  const { store, cycle, metagraph } = options;
  const [
    jobs,
    manifests,
    current,
    previous,
    batch,
    firstScoredAt,
    previousScoredAt,
    previousBatch,
    previousManifests,
    contradictions,
    previousContradictions,
  ] = await Promise.all([
    store.jobOutcomes(cycle.index),
    store.manifests(cycle.index),
    store.mainHotkeys(cycle.index),
    store.mainHotkeys(cycle.index - 1),
    store.batch(cycle.index),
    store.scoredAt(cycle.index),
    store.scoredAt(cycle.index - 1),
    store.batch(cycle.index - 1),
    store.manifests(cycle.index - 1),
    store.manifestContradictions(cycle.index),
    store.manifestContradictions(cycle.index - 1),
    cryptoReady(),
  ]);
  // A cycle scored again keeps the window it was first scored with, so windows never overlap.
  const scoredAt = firstScoredAt ?? options.scoredAt ?? Date.now();
  const window = { fromMs: previousScoredAt ?? batch?.startedAt ?? scoredAt - RECEIPT_LOOKBACK_MS, toMs: scoredAt };
  const receipts = options.transferredReceipts
    ? await options.transferredReceipts.inWindow({
        fromMs: Math.min(window.fromMs, batch?.startedAt ?? window.fromMs) - RECEIPT_LOOKBACK_MS,
        toMs: scoredAt,
      })
    : { organicStarted: [], accepted: [], finished: [] };
  // A dance is paid only on executors seen moving between two batches of this validator.
  const neurons = neuronFacts(metagraph);
  // ... and on manifests the miner did not contradict with its own chain commitment.
  const contradicted = new Set([...contradictions, ...previousContradictions].map((c) => c.minerHotkey));
  const mainHotkeys = mainHotkeyFacts({
    current,
    previous,
    neurons,
    manifests,
    previousManifests: previousBatch?.status === 'finished' ? previousManifests : null,
    contradicted,
  });
  return {
    cycle: { index: cycle.index, startBlock: cycle.startBlock, endBlock: cycle.endBlock },
    window,
    netuid: metagraph.netuid,
    validatorHotkey: store.validatorHotkey,
    jobs,
    manifests,
    neurons,
    hardwareClasses: options.hardwareClasses,
    mainHotkeys,
    organicStartedReceipts: receipts.organicStarted,
    acceptedReceipts: receipts.accepted,
    finishedReceipts: receipts.finished,
    verifyValidatorSignature: verifyValidatorSignatureSync,
  };
}
