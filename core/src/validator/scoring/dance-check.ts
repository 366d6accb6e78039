import type { Manifest, NeuronFact } from '../../contracts/index.js';
import type { MainHotkeys } from './coldkey-split.js';
import { definedFields } from '../../object/defined-fields.js';

/** Why a reported main-hotkey change is not paid as a dance; null when it is one. */
export type DanceRefusal =
  | 'no_change'
  | 'main_hotkey_unknown'
  | 'not_registered_under_coldkey'
  | 'no_manifests'
  | 'manifest_contradicts_commitment'
  | 'executors_did_not_move';

export interface DanceEvidence {
  readonly coldkey: string;
  readonly current: string | null;
  readonly previous: string | null;
  readonly neurons: readonly NeuronFact[];
  /** Manifests this validator recorded for this cycle's batch, by hotkey. */
  readonly manifests: Readonly<Record<string, Manifest>>;
  /** The same for the previous cycle (null: this validator ran no batch then). */
  readonly previousManifests: Readonly<Record<string, Manifest>> | null;
  /**
   * Hotkeys whose served manifest disagreed with their chain commitment in this cycle's batch or
   * the previous one: a manifest the miner itself contradicted proves no movement.
   */
  readonly contradicted?: ReadonlySet<string>;
}

/** Executors a hotkey declared, every class together (0 when it declared none or was not reached). */
function executorsOf(manifests: Readonly<Record<string, Manifest>>, hotkey: string): number {
  return Object.values(manifests[hotkey] ?? {}).reduce((sum, count) => sum + count, 0);
}

/**
 * Checks that a main-hotkey change is a dance and not a claim: both hotkeys registered under the
 * coldkey, and executors moved from the previous main to the new one between the two batches
 * (the new main declares more than it did, the old one fewer). The manifests are the ones each
 * batch actually used (served over the websocket, or committed on chain with
 * `manifestSource: commitment`), so executors that were never there cannot be claimed. When a
 * hotkey has a manifest commitment, the served manifest must agree with it: a miner that serves
 * one horde and commits another lies in one of them, and no dance is paid on either.
 */
export function verifyDance(evidence: DanceEvidence): DanceRefusal | null {
  const { coldkey, current, previous, neurons, manifests, previousManifests } = evidence;
  if (current === null || previous === null) return 'main_hotkey_unknown';
  if (current === previous) return 'no_change';
  const coldkeyOf = (hotkey: string) => neurons.find((neuron) => neuron.hotkey === hotkey)?.coldkey;
  if (coldkeyOf(current) !== coldkey || coldkeyOf(previous) !== coldkey) return 'not_registered_under_coldkey';
  if (previousManifests === null) return 'no_manifests';
  if (evidence.contradicted?.has(current) || evidence.contradicted?.has(previous)) return 'manifest_contradicts_commitment';
  const gained = executorsOf(manifests, current) > executorsOf(previousManifests, current);
  const left = executorsOf(previousManifests, previous) > executorsOf(manifests, previous);
  return gained && left ? null : 'executors_did_not_move';
}

/** The `mainHotkeys` scoring fact: each coldkey's main hotkey now and before, and whether it really danced. */
export function mainHotkeyFacts(input: {
  readonly current: ReadonlyMap<string, string>;
  readonly previous: ReadonlyMap<string, string>;
  readonly neurons: readonly NeuronFact[];
  readonly manifests: Readonly<Record<string, Manifest>>;
  readonly previousManifests: Readonly<Record<string, Manifest>> | null;
  /** Hotkeys whose served manifest contradicted their commitment, this cycle or the previous one. */
  readonly contradicted?: ReadonlySet<string>;
}): Record<string, MainHotkeys> {
  const facts: Record<string, MainHotkeys> = {};
  for (const coldkey of new Set([...input.current.keys(), ...input.previous.keys()])) {
    const current = input.current.get(coldkey) ?? null;
    const previous = input.previous.get(coldkey) ?? null;
    const refusal = verifyDance({
      coldkey,
      current,
      previous,
      neurons: input.neurons,
      manifests: input.manifests,
      previousManifests: input.previousManifests,
      ...definedFields({ contradicted: input.contradicted }),
    });
    facts[coldkey] = { current, previous, verifiedDance: refusal === null };
  }
  return facts;
}
