import { createHash } from 'node:crypto';
import type { Metagraph } from '../contracts/index.js';

/**
 * Cycle arithmetic. Cycle `n` covers blocks `[n × length, (n + 1) × length)`; ComputeHorde's cycle
 * is two epochs (722 blocks), the devnet uses a few dozen.
 */
export interface CycleRange {
  readonly index: number;
  readonly startBlock: number;
  /** First block after the cycle. */
  readonly endBlock: number;
}

export function cycleOf(block: number, length: number): CycleRange {
  const index = Math.floor(block / length);
  return { index, startBlock: index * length, endBlock: (index + 1) * length };
}

export function cycleByIndex(index: number, length: number): CycleRange {
  return { index, startBlock: index * length, endBlock: (index + 1) * length };
}

/** Deterministic shuffle (Fisher–Yates driven by sha-256 of the seed), the same on every validator. */
function seededShuffle<T>(items: readonly T[], seed: string): T[] {
  const shuffled = [...items];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const digest = createHash('sha256').update(`${seed}:${i}`).digest();
    const j = digest.readUInt32BE(0) % (i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  return shuffled;
}

/**
 * The block at which `validatorHotkey` runs its batch in `cycle`, ComputeHorde's slot rule: the
 * validators (neurons with a permit, by stake) are shuffled with a seed every validator derives from
 * the cycle, and slot `i` of `n` starts at `start + offset + floor((length − offset) / n × i)`. So
 * batches spread over the cycle and miners are not hit by every validator at once. A validator
 * without a permit (a devnet, a fresh validator) takes the first slot.
 */
export function batchSlotBlock(cycle: CycleRange, metagraph: Metagraph, validatorHotkey: string, offsetBlocks: number): number {
  const validators = metagraph.neurons
    .filter((neuron) => neuron.validatorPermit)
    .sort((a, b) => b.stake.total - a.stake.total || a.hotkey.localeCompare(b.hotkey))
    .map((neuron) => neuron.hotkey);
  const order = seededShuffle(validators, `horde-batch-slots:${cycle.startBlock}`);
  const index = Math.max(0, order.indexOf(validatorHotkey));
  const slots = Math.max(1, order.length);
  const length = cycle.endBlock - cycle.startBlock;
  return cycle.startBlock + offsetBlocks + Math.floor(((length - offsetBlocks) / slots) * index);
}
