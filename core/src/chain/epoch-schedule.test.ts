import { describe, expect, it } from 'vitest';

import { blocksUntilNextEpoch, epochIndex, revealWindow } from './epochs.js';
import { chooseWeightsMode, legacySchedule } from './weight-submitter.js';
import { epochWithLookahead, nextEpochStartBlock, predictReveal, revealRoundFor, stepBlock, type EpochScheduleState } from './epoch-schedule.js';

const base: EpochScheduleState = { block: 100, tempo: 50, subnetEpochIndex: 7, lastEpochBlock: 100, pendingEpochAt: 0, blocksSinceLastStep: 0 };

describe('epoch schedule (subtensor stateful scheduler)', () => {
  // opentensor/subtensor@14bc6f9f pallets/subtensor/src/tests/tempo_control.rs get_next_epoch_start_block_*
  it.each([
    { name: 'uses_last_epoch_block_plus_tempo', pending: 0, tempo: 50, expected: 150 },
    { name: 'returns_pending_when_pending_is_earlier', pending: 120, tempo: 50, expected: 120 },
    { name: 'ignores_pending_when_auto_is_earlier', pending: 200, tempo: 50, expected: 150 },
    { name: 'returns_none_when_tempo_zero', pending: 0, tempo: 0, expected: null },
  ])('get_next_epoch_start_block $name', ({ pending, tempo, expected }) => {
    expect(nextEpochStartBlock({ ...base, tempo, pendingEpochAt: pending })).toBe(expected);
  });

  it('fires every `tempo` blocks (not tempo + 1) and counts epochs one by one', () => {
    let state = base;
    const fired: number[] = [];
    while (state.block < 260) {
      const step = stepBlock(state);
      if (step.fired) fired.push(step.next.block);
      state = step.next;
    }
    expect(fired).toEqual([150, 200, 250]);
    expect(state.subnetEpochIndex).toBe(10);
  });

  it('an owner-triggered epoch fires at PendingEpochAt and resets the cadence from there', () => {
    let state: EpochScheduleState = { ...base, pendingEpochAt: 120 };
    const fired: number[] = [];
    while (state.block < 200) {
      const step = stepBlock(state);
      if (step.fired) fired.push(step.next.block);
      state = step.next;
    }
    expect(fired).toEqual([120, 170]);
  });

  it('the MAX_TEMPO safety net fires an epoch after 50 400 blocks without a step', () => {
    const state: EpochScheduleState = { ...base, tempo: 60_000, blocksSinceLastStep: 50_400 };
    expect(stepBlock(state).fired).toBe(true);
  });

  // migrate_dynamic_tempo.rs: LastEpochBlock and SubnetEpochIndex are seeded so the new scheduler
  // fires its first epoch on the block the legacy formula would have, with the same epoch number.
  it.each([
    { netuid: 1, tempo: 360, block: 4_000_123 },
    { netuid: 64, tempo: 99, block: 5_000 },
    { netuid: 0, tempo: 10, block: 21 },
  ])('migration seed keeps netuid $netuid, tempo $tempo continuous at block $block', ({ netuid, tempo, block }) => {
    const untilNext = blocksUntilNextEpoch(netuid, tempo, block);
    const seeded: EpochScheduleState = {
      block,
      tempo,
      subnetEpochIndex: epochIndex(netuid, tempo, block),
      lastEpochBlock: block - (tempo - untilNext),
      pendingEpochAt: 0,
      blocksSinceLastStep: 0,
    };
    expect(nextEpochStartBlock(seeded)).toBe(block + untilNext);
  });

  it('a commit in a block whose on_initialize fired the epoch belongs to the new epoch', () => {
    const head = { ...base, block: 149 };
    const prediction = predictReveal(head, 1)!;
    expect(prediction.commitBlock).toBe(150);
    expect(prediction.commitEpoch).toBe(8);
    expect(prediction.revealEpoch).toBe(9);
    expect(prediction.revealBlock).toBe(200);
    expect(prediction.lastRevealBlock).toBe(249);
  });

  it('predicts the reveal at the fire block of commit epoch + reveal period, judged with look-ahead', () => {
    const prediction = predictReveal({ ...base, block: 120 }, 2)!;
    expect(prediction).toEqual({ commitBlock: 121, commitEpoch: 7, revealEpoch: 9, revealBlock: 200, lastRevealBlock: 249 });
    // At the reveal block, before the coinbase, the chain's look-ahead says epoch 9.
    let state: EpochScheduleState = { ...base, block: 120 };
    while (state.block < 199) state = stepBlock(state).next;
    expect(epochWithLookahead(state)).toBe(8);
    expect(stepBlock(state).revealEpoch).toBe(9);
  });

  it('returns null when the subnet has no epochs', () => {
    expect(predictReveal({ ...base, tempo: 0 }, 1)).toBeNull();
  });

  it('derives the drand round like bittensor-drand: time of reveal block + 3, rounded down', () => {
    const round = revealRoundFor({ headBlock: 120, revealBlock: 200, nowSeconds: 1_700_000_000, blockTimeSeconds: 12, beaconGenesis: 1692803367, beaconPeriod: 3 });
    expect(round).toBe(Math.floor((1_700_000_000 + 83 * 12 - 1692803367) / 3));
  });
});

describe('legacy epochs as a schedule (chains without SubnetEpochIndex)', () => {
  it.each([
    { netuid: 12, tempo: 10 },
    { netuid: 3, tempo: 10 },
    { netuid: 0, tempo: 360 },
    { netuid: 64, tempo: 99 },
  ])('predicts the first block of revealWindow for netuid $netuid, tempo $tempo, at every commit block', ({ netuid, tempo }) => {
    for (let commitBlock = 50; commitBlock < 50 + 3 * (tempo + 1); commitBlock++) {
      for (const period of [1, 2]) {
        const prediction = predictReveal(legacySchedule(netuid, tempo, commitBlock - 1), period)!;
        const window = revealWindow(netuid, tempo, period, commitBlock);
        expect([prediction.commitBlock, prediction.commitEpoch, prediction.revealBlock, prediction.lastRevealBlock]).toEqual([
          commitBlock,
          window.commitEpoch,
          window.firstBlock,
          window.lastBlock,
        ]);
      }
    }
  });

  it('chooses the weights mode from the hyperparameters', () => {
    const hyper = { tempo: 10, weightsRateLimit: 1, minAllowedWeights: 1, maxWeightsLimit: 65535, revealPeriodEpochs: 1, weightsVersion: 0 };
    expect(chooseWeightsMode({ ...hyper, commitRevealEnabled: false, commitRevealVersion: 4 }, true)).toBe('set_weights');
    expect(chooseWeightsMode({ ...hyper, commitRevealEnabled: true, commitRevealVersion: 4 }, true)).toBe('timelocked_v4');
    expect(chooseWeightsMode({ ...hyper, commitRevealEnabled: true, commitRevealVersion: 4 }, false)).toBe('commit_reveal_v2');
    expect(chooseWeightsMode({ ...hyper, commitRevealEnabled: true, commitRevealVersion: 3 }, true)).toBe('commit_reveal_v2');
    expect(chooseWeightsMode({ ...hyper, commitRevealEnabled: true }, true)).toBe('commit_reveal_v2');
  });
});
