import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { blocksUntilNextEpoch, epochIndex, revealWindow } from './epochs.js';
import { chooseWeightsMode, legacySchedule } from './weight-submitter.js';
import {
  epochWithLookahead,
  maxSimulationBlocks,
  nextEpochStartBlock,
  predictReveal,
  revealRoundFor,
  shouldRunEpoch,
  stepBlock,
  type EpochScheduleState,
} from './epoch-schedule.js';

/** bittensor-core's `EpochScheduleState`, as its vectors spell it. */
interface SdkState {
  last_epoch_block: number;
  pending_epoch_at: number;
  subnet_epoch_index: number;
  tempo: number;
  blocks_since_last_step: number;
  current_block: number;
}
const sdk = JSON.parse(readFileSync(new URL('./__fixtures__/epoch-schedule-vectors.json', import.meta.url), 'utf8')) as {
  predict: {
    name: string;
    source: string;
    state: SdkState;
    reveal_period_epochs: number;
    expected_reveal_block: number | null;
    expected_error: string | null;
  }[];
  commitEpoch: { name: string; state: SdkState; expected_commit_epoch: number }[];
  shouldRunEpoch: { name: string; state: SdkState; expect: { block: number; runs: boolean }[] }[];
};

function fromSdk(state: SdkState): EpochScheduleState {
  return {
    block: state.current_block,
    tempo: state.tempo,
    subnetEpochIndex: state.subnet_epoch_index,
    lastEpochBlock: state.last_epoch_block,
    pendingEpochAt: state.pending_epoch_at,
    blocksSinceLastStep: state.blocks_since_last_step,
  };
}

describe('epoch schedule against the SDK vectors (bittensor-core / bittensor-drand 2.0 epoch_schedule_vectors.rs)', () => {
  it('the fixture holds the whole table (3 predict, 1 commit-epoch, 2 should_run_epoch cases)', () => {
    expect(sdk.predict.map((v) => v.name)).toEqual(['tempo_zero', 'cycle_reset', 'pending_fires_before_auto']);
    expect(sdk.commitEpoch.map((v) => v.name)).toEqual(['commit_epoch_at_extrinsic_block']);
    expect(sdk.shouldRunEpoch.map((v) => v.name)).toEqual(['should_run_epoch_tempo_zero', 'should_run_epoch_auto_fire']);
  });

  it.each(sdk.predict)('predict_first_reveal_block $name ($source)', (vector) => {
    const prediction = predictReveal(fromSdk(vector.state), vector.reveal_period_epochs);
    if (vector.expected_error !== null) {
      // TempoIsZero is the only error in the table; predictReveal answers it with null.
      expect(vector.expected_error).toBe('TempoIsZero');
      expect(prediction).toBeNull();
    } else {
      expect(prediction?.revealBlock).toBe(vector.expected_reveal_block);
    }
  });

  it.each(sdk.commitEpoch)('commit epoch $name', (vector) => {
    const prediction = predictReveal(fromSdk(vector.state), 1)!;
    expect(prediction.commitBlock).toBe(vector.state.current_block + 1);
    expect(prediction.commitEpoch).toBe(vector.expected_commit_epoch);
  });

  it.each(sdk.shouldRunEpoch)('$name', (vector) => {
    for (const { block, runs } of vector.expect) expect(shouldRunEpoch(fromSdk(vector.state), block)).toBe(runs);
  });

  it('reveal_uses_exact_equality_not_gte: no block before the predicted one is judged in the reveal epoch', () => {
    const vector = sdk.predict.find((v) => v.name === 'pending_fires_before_auto')!;
    const prediction = predictReveal(fromSdk(vector.state), vector.reveal_period_epochs)!;
    expect(prediction.revealBlock).toBeGreaterThan(vector.state.current_block);
    let state = stepBlock(fromSdk(vector.state)).next;
    while (state.block + 1 < prediction.revealBlock) {
      const step = stepBlock(state);
      expect(step.revealEpoch).toBeLessThan(prediction.revealEpoch);
      state = step.next;
    }
    expect(stepBlock(state).revealEpoch).toBe(prediction.revealEpoch);
  });

  it('uses the SDK bound on the search (period * MAX_TEMPO + MAX_TEMPO blocks)', () => {
    expect(maxSimulationBlocks(1)).toBe(100_800);
    expect(maxSimulationBlocks(3)).toBe(201_600);
  });

  it('the cycle_reset row with block time 12 s gives the round generate_commit_v2 would (reveal block + 3, from the head)', () => {
    // tests/test_commit_reveal_v2.py feeds cycle_reset to get_encrypted_commit_v2 with block_time 12.
    const vector = sdk.predict.find((v) => v.name === 'cycle_reset')!;
    const prediction = predictReveal(fromSdk(vector.state), vector.reveal_period_epochs)!;
    const nowSeconds = 1_780_000_000;
    const round = revealRoundFor({
      headBlock: 10,
      revealBlock: prediction.revealBlock,
      nowSeconds,
      blockTimeSeconds: 12,
      beaconGenesis: 1_692_803_367,
      beaconPeriod: 3,
    });
    expect(round).toBe(Math.floor((nowSeconds + (60 + 3 - 10) * 12 - 1_692_803_367) / 3));
  });
});

const base: EpochScheduleState = {
  block: 100,
  tempo: 50,
  subnetEpochIndex: 7,
  lastEpochBlock: 100,
  pendingEpochAt: 0,
  blocksSinceLastStep: 0,
};

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
    const round = revealRoundFor({
      headBlock: 120,
      revealBlock: 200,
      nowSeconds: 1_700_000_000,
      blockTimeSeconds: 12,
      beaconGenesis: 1692803367,
      beaconPeriod: 3,
    });
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
    const hyper = {
      tempo: 10,
      weightsRateLimit: 1,
      minAllowedWeights: 1,
      maxWeightsLimit: 65535,
      revealPeriodEpochs: 1,
      weightsVersion: 0,
    };
    expect(chooseWeightsMode({ ...hyper, commitRevealEnabled: false, commitRevealVersion: 4 }, true)).toBe('set_weights');
    expect(chooseWeightsMode({ ...hyper, commitRevealEnabled: true, commitRevealVersion: 4 }, true)).toBe('timelocked_v4');
    expect(chooseWeightsMode({ ...hyper, commitRevealEnabled: true, commitRevealVersion: 4 }, false)).toBe('commit_reveal_v2');
    expect(chooseWeightsMode({ ...hyper, commitRevealEnabled: true, commitRevealVersion: 3 }, true)).toBe('commit_reveal_v2');
    expect(chooseWeightsMode({ ...hyper, commitRevealEnabled: true }, true)).toBe('commit_reveal_v2');
  });
});
