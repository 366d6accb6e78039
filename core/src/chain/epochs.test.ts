import { describe, expect, it } from 'vitest';
import { blocksUntilNextEpoch, epochIndex, firstBlockOfEpoch, revealWindow } from './epochs.js';

describe('subtensor epoch arithmetic', () => {
  it('numbers epochs by (block + netuid + 1) / (tempo + 1)', () => {
    // netuid 12, tempo 360: epochs are 361 blocks, epoch 1 starts at 361 − 13 = 348.
    expect(epochIndex(12, 360, 0)).toBe(0);
    expect(epochIndex(12, 360, 347)).toBe(0);
    expect(epochIndex(12, 360, 348)).toBe(1);
    expect(firstBlockOfEpoch(12, 360, 1)).toBe(348);
    expect(firstBlockOfEpoch(12, 360, 0)).toBe(0);
  });

  it('counts blocks to the end of the epoch like ComputeHorde', () => {
    // next epoch starts at block + tempo − (block + netuid + 1) % 361 + 1
    expect(blocksUntilNextEpoch(12, 360, 347)).toBe(0);
    expect(blocksUntilNextEpoch(12, 360, 348)).toBe(360);
  });

  it('opens the reveal window exactly one reveal period after the commit epoch', () => {
    // netuid 1, tempo 10: epochs are 11 blocks, offset 2 → epoch e starts at 11e − 2.
    const w = revealWindow(1, 10, 1, 20); // (20 + 2) / 11 = epoch 2
    expect(w).toEqual({ commitEpoch: 2, revealEpoch: 3, firstBlock: 31, lastBlock: 41 });
    expect(epochIndex(1, 10, w.firstBlock)).toBe(3);
    expect(epochIndex(1, 10, w.lastBlock)).toBe(3);
    expect(epochIndex(1, 10, w.lastBlock + 1)).toBe(4);
    expect(revealWindow(1, 10, 2, 20).firstBlock).toBe(42);
  });
});
