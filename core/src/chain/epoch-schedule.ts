/**
 * subtensor's stateful epoch scheduler (2026 runtimes, pallets/subtensor/src/coinbase/
 * run_coinbase.rs `should_run_epoch` / `drain_pending`, subnets/weights.rs
 * `current_epoch_with_lookahead`, coinbase/reveal_commits.rs), simulated block by block so a
 * validator can predict in which block its timelocked commit is revealed, and so for which drand
 * round to encrypt. It replaces the legacy `(block + netuid + 1) / (tempo + 1)` arithmetic of
 * epochs.ts, which newer runtimes keep only for an old migration.
 *
 * The chain runs, in `on_initialize` of every block: first the timelocked reveals, judged against
 * the look-ahead epoch (`SubnetEpochIndex + 1` when an epoch slot fires in this block), then the
 * coinbase, which consumes the slot (`LastEpochBlock = block`, `PendingEpochAt = 0`,
 * `SubnetEpochIndex += 1`). Extrinsics (commits) run after that, in the same block.
 *
 * Not modelled: the per-block cap on epochs across subnets (`MaxEpochsPerBlock`, which defers a
 * slot by one block when many subnets fire together); the reveal then happens one block later
 * inside the same reveal epoch, which the chain tolerates (it retries every block of that epoch).
 */

/** `MAX_TEMPO`: past this many blocks without a step an epoch runs regardless of the schedule. */
export const MAX_TEMPO = 50_400;

/** The schedule state of one subnet after a block's `on_initialize`, as its storage holds it. */
export interface EpochScheduleState {
  /** The block whose `on_initialize` produced this state (the chain head). */
  readonly block: number;
  readonly tempo: number;
  readonly subnetEpochIndex: number;
  readonly lastEpochBlock: number;
  /** `PendingEpochAt` (0 = no owner-triggered epoch pending). */
  readonly pendingEpochAt: number;
  readonly blocksSinceLastStep: number;
}

/** `should_run_epoch(netuid, block)` given `blocksSinceLastStep` as `drain_pending` sees it. */
export function shouldRunEpoch(state: EpochScheduleState, block: number, blocksSinceLastStep = state.blocksSinceLastStep): boolean {
  if (state.tempo === 0) return false;
  if (state.pendingEpochAt > 0 && block >= state.pendingEpochAt) return true;
  if (blocksSinceLastStep > MAX_TEMPO) return true;
  return block - state.lastEpochBlock >= state.tempo;
}

/** The epoch an extrinsic included in the head block belongs to (`current_epoch_with_lookahead`). */
export function epochWithLookahead(state: EpochScheduleState): number {
  return state.subnetEpochIndex + (shouldRunEpoch(state, state.block) ? 1 : 0);
}

/** `get_next_epoch_start_block`: the next automatic slot, or an earlier owner-triggered one; null when tempo is 0. */
export function nextEpochStartBlock(state: EpochScheduleState): number | null {
  if (state.tempo === 0) return null;
  const auto = state.lastEpochBlock + state.tempo;
  return state.pendingEpochAt > 0 ? Math.min(auto, state.pendingEpochAt) : auto;
}

export interface BlockStep {
  /** State after block `state.block + 1`'s `on_initialize`. */
  readonly next: EpochScheduleState;
  /** The look-ahead epoch the reveal step of that block judged commits against. */
  readonly revealEpoch: number;
  /** Whether the epoch slot fired in that block. */
  readonly fired: boolean;
}

/** Runs the schedule part of the next block's `on_initialize`. */
export function stepBlock(state: EpochScheduleState): BlockStep {
  const block = state.block + 1;
  const revealEpoch = state.subnetEpochIndex + (shouldRunEpoch(state, block) ? 1 : 0);
  const blocksSinceLastStep = state.blocksSinceLastStep + 1;
  if (!shouldRunEpoch(state, block, blocksSinceLastStep)) {
    return { next: { ...state, block, blocksSinceLastStep }, revealEpoch, fired: false };
  }
  return {
    next: {
      ...state,
      block,
      lastEpochBlock: block,
      pendingEpochAt: 0,
      subnetEpochIndex: state.subnetEpochIndex + 1,
      blocksSinceLastStep: 0,
    },
    revealEpoch,
    fired: true,
  };
}

export interface RevealPrediction {
  /** Block the commit is included in (the one after the head). */
  readonly commitBlock: number;
  /** `SubnetEpochIndex` look-ahead the chain keys the commit under. */
  readonly commitEpoch: number;
  /** `commitEpoch + revealPeriodEpochs`. */
  readonly revealEpoch: number;
  /** First block whose reveal step opens the commit (if the round's pulse is there by then). */
  readonly revealBlock: number;
  /** Last block of the reveal epoch: after it the chain drops the commit unrevealed. */
  readonly lastRevealBlock: number;
}

/**
 * How many blocks after the commit block the search for the reveal block may look
 * (bittensor-core `max_simulation_blocks`): one `MAX_TEMPO` per epoch to wait plus one. The
 * `MAX_TEMPO` safety net fires an epoch at least every `MAX_TEMPO + 1` blocks, so a subnet with a
 * tempo reaches any reveal period the chain accepts well inside it.
 */
export function maxSimulationBlocks(revealPeriodEpochs: number): number {
  return revealPeriodEpochs * MAX_TEMPO + MAX_TEMPO;
}

/**
 * Predicts, from the head's state, where a commit sent now (included in `head + 1`) is revealed.
 * Null when the subnet never reaches the reveal epoch: tempo 0 (the SDK's `TempoIsZero`) or no
 * reveal block within `maxSimulationBlocks` (its `BoundExceeded`).
 *
 * `revealBlock` is the SDK's `predict_first_reveal_block` (the first block whose pre-coinbase
 * look-ahead epoch equals the reveal epoch); its vectors are checked in epoch-schedule.test.ts.
 * The commit epoch is read after the commit block's `on_initialize`, as the extrinsic sees it;
 * the SDK reads it before, which differs only when the `MAX_TEMPO` safety net fires in the
 * commit block itself.
 */
export function predictReveal(head: EpochScheduleState, revealPeriodEpochs: number): RevealPrediction | null {
  if (head.tempo === 0) return null;
  // The commit block's on_initialize runs before the commit extrinsic.
  const atCommit = stepBlock(head).next;
  const commitEpoch = epochWithLookahead(atCommit);
  const revealEpoch = commitEpoch + revealPeriodEpochs;
  const searchEnd = atCommit.block + maxSimulationBlocks(revealPeriodEpochs);
  let state = atCommit;
  let revealBlock: number | null = null;
  // After the reveal block, the reveal epoch ends within one more epoch (MAX_TEMPO + 1 blocks).
  while (revealBlock === null ? state.block < searchEnd : state.block <= revealBlock + MAX_TEMPO + 1) {
    const step = stepBlock(state);
    if (revealBlock === null && step.revealEpoch === revealEpoch) revealBlock = step.next.block;
    if (revealBlock !== null && step.revealEpoch > revealEpoch) {
      return { commitBlock: atCommit.block, commitEpoch, revealEpoch, revealBlock, lastRevealBlock: state.block };
    }
    state = step.next;
  }
  return null;
}

/** Blocks after the reveal block the pulse should be ingested by (bittensor-drand's `SECURITY_BLOCK_OFFSET`). */
export const REVEAL_SECURITY_BLOCKS = 3;

/**
 * The drand round to encrypt for, as bittensor-drand derives it: the wall-clock time of
 * `revealBlock + 3` at `blockTimeSeconds` per block, turned into a round rounded down, so the
 * pulse is on chain by the time the reveal step looks for it and not long before.
 */
export function revealRoundFor(options: {
  readonly headBlock: number;
  readonly revealBlock: number;
  readonly nowSeconds: number;
  readonly blockTimeSeconds: number;
  readonly beaconGenesis: number;
  readonly beaconPeriod: number;
}): number {
  const blocks = Math.max(0, options.revealBlock + REVEAL_SECURITY_BLOCKS - options.headBlock);
  const target = options.nowSeconds + blocks * options.blockTimeSeconds;
  return Math.max(1, Math.floor((target - options.beaconGenesis) / options.beaconPeriod));
}
