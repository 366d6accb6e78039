/**
 * Scoring pieces every ComputeHorde-style scoring plugin needs, kept here once so that the classic
 * and the allowance plugins (and third-party ones) share them instead of copying them.
 */

/**
 * ComputeHorde's code default for `DYNAMIC_EXECUTOR_CLASS_WEIGHTS`. Production has moved between
 * classes over time; plugins let the operator configure their own.
 */
export const COMPUTE_HORDE_CLASS_WEIGHTS: Readonly<Record<string, number>> = {
  'spin_up-4min.gpu-24gb': 98,
  'always_on.llm.a6000': 1,
  'always_on.test': 0,
  'always_on.cpu.8c.16gb': 1,
};

/**
 * horde's default: ComputeHorde's weights, plus the GPU classes it leaves at 0, so a miner that
 * proves one of them earns something. ComputeHorde's classes keep their weights (98 % of the
 * total stays on its default class, as a ComputeHorde validator pays); each new pool is sized like
 * the A6000 pool (1) times the card's rental price relative to an A6000 (an always-on 24 GB card
 * costs about the same, an A100 80GB about twice, an H100 80GB about three times). Operators set
 * `classWeights` to what their subnet pays for; the README's hardware section lists these.
 */
export const HORDE_CLASS_WEIGHTS: Readonly<Record<string, number>> = {
  ...COMPUTE_HORDE_CLASS_WEIGHTS,
  'always_on.gpu-24gb': 1,
  'always_on.gpu.a100-80gb': 2,
  'always_on.gpu.h100-80gb': 3,
};

/** A coldkey's main hotkey this cycle and the previous one (null: not known). */
export interface MainHotkeys {
  readonly current: string | null;
  readonly previous: string | null;
  /** The change is a real dance (see `CycleFacts.mainHotkeys`, `verifyDance`): only then is a bonus paid. */
  readonly verifiedDance: boolean;
}

export interface ColdkeySplitOptions {
  /** Extra share when the main hotkey changed since the previous cycle (ComputeHorde now: 0.1). */
  readonly bonus: number;
  /** The main hotkey's share when the coldkey has several hotkeys (ComputeHorde: 0.8). */
  readonly mainHotkeyShare: number;
}

/**
 * Shares one coldkey's points for one class among its registered hotkeys (ComputeHorde's
 * `_process_coldkey_main_hotkey`):
 * - the total grows by `bonus` when the main hotkey is known for this cycle and the previous one,
 *   they differ, and the validator verified the dance (`verifiedDance`: both registered under the
 *   coldkey, executors moved between them). ComputeHorde pays on the reported change alone, which a
 *   miner with one hotkey farms by naming an unregistered hotkey every other cycle;
 * - a main hotkey registered under the coldkey gets everything if it is the only hotkey, else
 *   `mainHotkeyShare`, and the other hotkeys split the rest equally;
 * - an unknown or unregistered main hotkey means an equal split.
 */
export function splitColdkeyPoints(
  total: number,
  hotkeys: readonly string[],
  main: MainHotkeys | undefined,
  options: ColdkeySplitOptions,
): Map<string, number> {
  const current = main?.current ?? null;
  const previous = main?.previous ?? null;
  const danced = current !== null && previous !== null && current !== previous && main?.verifiedDance === true;
  const points = danced ? total * (1 + options.bonus) : total;

  const shares = new Map<string, number>();
  if (current !== null && hotkeys.includes(current)) {
    const others = hotkeys.filter((hotkey) => hotkey !== current);
    shares.set(current, others.length === 0 ? points : points * options.mainHotkeyShare);
    for (const hotkey of others) shares.set(hotkey, (points * (1 - options.mainHotkeyShare)) / others.length);
    return shares;
  }
  for (const hotkey of hotkeys) shares.set(hotkey, points / hotkeys.length);
  return shares;
}
