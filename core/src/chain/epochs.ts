/**
 * Epoch arithmetic of subtensor's commit-reveal v2, as in the runtime the metadata fixture comes from
 * (`get_epoch_index`, `get_first_block_of_epoch`, `get_reveal_blocks`, `is_reveal_block_range`,
 * `is_commit_expired` in pallets/subtensor/src/subnets/weights.rs): epochs are `tempo + 1` blocks
 * long and offset by `netuid + 1` so subnets do not all step on the same block.
 *
 * Newer runtimes (2026) count epochs with a stateful `SubnetEpochIndex`; the SubtensorChain adapter
 * therefore treats the chain's own answers (`RevealTooEarly`, `ExpiredWeightCommit`) as the truth
 * and uses these formulas only to decide when to try.
 */

/** `(block + netuid + 1) / (tempo + 1)`, rounded down. */
export function epochIndex(netuid: number, tempo: number, block: number): number {
  return Math.floor((block + netuid + 1) / (tempo + 1));
}

/** First block of `epoch` (0 for epochs that would start before genesis). */
export function firstBlockOfEpoch(netuid: number, tempo: number, epoch: number): number {
  return Math.max(0, epoch * (tempo + 1) - (netuid + 1));
}

/** Blocks from `block` to the last block of its epoch (0 on that block). */
export function blocksUntilNextEpoch(netuid: number, tempo: number, block: number): number {
  return tempo - ((block + netuid + 1) % (tempo + 1));
}

export interface RevealWindow {
  readonly commitEpoch: number;
  readonly revealEpoch: number;
  /** First block a reveal is accepted in. */
  readonly firstBlock: number;
  /** Last block a reveal is accepted in; after it the commit has expired. */
  readonly lastBlock: number;
}

/** The reveal window of a commit made at `commitBlock`: exactly epoch `commit epoch + revealPeriodEpochs`. */
export function revealWindow(netuid: number, tempo: number, revealPeriodEpochs: number, commitBlock: number): RevealWindow {
  const commitEpoch = epochIndex(netuid, tempo, commitBlock);
  const revealEpoch = commitEpoch + revealPeriodEpochs;
  const firstBlock = firstBlockOfEpoch(netuid, tempo, revealEpoch);
  return { commitEpoch, revealEpoch, firstBlock, lastBlock: firstBlock + tempo };
}
