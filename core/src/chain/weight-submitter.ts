/**
 * The client side of putting weights on chain, shared by SubtensorChain and LocalChain so both
 * follow the same rules: wait out `WeightsSetRateLimit` without sending anything, convert weights
 * like the bittensor SDK, plain `set_weights` when commit-reveal is off, CR-v2 commit (salt kept in
 * the store) when it is on, and reveal in the reveal epoch, also after a restart.
 */
import type { Logger, RevealResult, SubnetHyperparameters, WeightSubmissionResult, WeightVector } from '../contracts/index.js';
import { randomSalt, weightCommitHash } from './commit-hash.js';
import { revealWindow } from './epochs.js';
import { ChainError, isChainVerdict } from './errors.js';
import type { WeightCommitStore } from './weight-commit-store.js';
import { prepareWeightsForChain, U16_MAX } from './weight-conversion.js';

/** What the submitter needs to know about the subnet and this hotkey, read in one go. */
export interface WeightsChainState {
  /** The block a call sent now executes in (see `WeightsBackend.nextBlock`). */
  readonly block: number;
  readonly hyperparameters: SubnetHyperparameters;
  /** This hotkey's uid, or null when it is not registered on the subnet. */
  readonly uid: number | null;
  /** `LastUpdate` of the uid (0 = never). */
  readonly lastUpdate: number;
  /** `SubnetworkN`. */
  readonly subnetSize: number;
}

/** A CR-v2 commit as the chain keeps it (`WeightCommits`). */
export interface OnChainWeightCommit {
  readonly hash: string;
  readonly commitBlock: number;
  readonly firstRevealBlock: number;
  readonly lastRevealBlock: number;
}

/** The chain operations behind the submitter; each write resolves with the block it landed in. */
export interface WeightsBackend {
  readonly network: string;
  readonly hotkey: string;
  /**
   * The block a call sent now executes in: on subtensor the one after the best block (the pool
   * also validates against best + 1), on LocalChain the current block (writes apply at once).
   */
  nextBlock(): Promise<number>;
  weightsState(netuid: number): Promise<WeightsChainState>;
  setWeights(netuid: number, uids: number[], values: number[], versionKey: number): Promise<number>;
  commitWeights(netuid: number, commitHash: `0x${string}`): Promise<number>;
  revealWeights(netuid: number, uids: number[], values: number[], salt: number[], versionKey: number): Promise<number>;
  onChainCommits(netuid: number): Promise<OnChainWeightCommit[]>;
}

export interface WeightSubmitterOptions {
  readonly backend: WeightsBackend;
  readonly commits: WeightCommitStore;
  readonly logger?: Logger | undefined;
  readonly now?: () => number;
}

/** `blocksRemaining` until `WeightsSetRateLimit` has passed since `lastUpdate` (0 = may send now). */
export function rateLimitWait(state: Pick<WeightsChainState, 'block' | 'lastUpdate' | 'hyperparameters'>): {
  blocksRemaining: number;
  nextBlock: number;
} {
  const limit = state.hyperparameters.weightsRateLimit;
  // subtensor's check_rate_limit: LastUpdate 0 means "never set", else block − last ≥ limit.
  if (state.lastUpdate === 0) return { blocksRemaining: 0, nextBlock: state.block };
  const nextBlock = state.lastUpdate + limit;
  return { blocksRemaining: Math.max(0, nextBlock - state.block), nextBlock: Math.max(nextBlock, state.block) };
}

export class WeightSubmitter {
  private readonly backend: WeightsBackend;
  private readonly commits: WeightCommitStore;
  private readonly log: Logger | undefined;
  private readonly now: () => number;

  constructor(options: WeightSubmitterOptions) {
    this.backend = options.backend;
    this.commits = options.commits;
    this.log = options.logger;
    this.now = options.now ?? Date.now;
  }

  async submit(netuid: number, weights: WeightVector, versionKey?: number): Promise<WeightSubmissionResult> {
    const { backend } = this;
    const state = await backend.weightsState(netuid);
    if (state.uid === null) {
      throw new ChainError('HotKeyNotRegisteredInSubNet', `hotkey ${backend.hotkey} is not registered on subnet ${netuid}; register it before setting weights`);
    }
    const wait = rateLimitWait(state);
    if (wait.blocksRemaining > 0) {
      this.log?.info(
        { netuid, hotkey: backend.hotkey, blocksRemaining: wait.blocksRemaining, nextBlock: wait.nextBlock },
        'weights rate limit not passed yet; nothing sent',
      );
      return { status: 'rate_limited', blocksRemaining: wait.blocksRemaining, nextBlock: wait.nextBlock };
    }

    const hyper = state.hyperparameters;
    const key = versionKey ?? hyper.weightsVersion;
    const { uids, values } = prepareWeightsForChain(weights, {
      numNeurons: state.subnetSize,
      minAllowedWeights: hyper.minAllowedWeights,
      maxWeightLimit: hyper.maxWeightsLimit / U16_MAX,
    });

    if (!hyper.commitRevealEnabled) {
      const block = await backend.setWeights(netuid, uids, values, key);
      this.log?.info({ netuid, hotkey: backend.hotkey, block, count: uids.length }, 'weights set');
      return { status: 'set', block };
    }

    const salt = randomSalt();
    const commitHash = weightCommitHash({ hotkey: backend.hotkey, netuidIndex: netuid, uids, values, salt, versionKey: key });
    const id = await this.commits.insert({
      network: backend.network,
      netuid,
      hotkey: backend.hotkey,
      commitHash,
      uids,
      values,
      salt,
      versionKey: key,
      createdAt: this.now(),
    });
    let block: number;
    try {
      block = await backend.commitWeights(netuid, commitHash);
    } catch (error) {
      // A chain refusal is final; anything else (lost connection) may still have landed, so the
      // row stays pending and revealPending looks for it on chain.
      if (isChainVerdict(error)) await this.commits.markFailed(id, error.code);
      throw error;
    }
    const window = revealWindow(netuid, hyper.tempo, hyper.revealPeriodEpochs, block);
    await this.commits.markIncluded(id, block, window.firstBlock, window.lastBlock);
    this.log?.info({ netuid, hotkey: backend.hotkey, block, revealBlock: window.firstBlock, commitHash }, 'weights committed');
    return { status: 'committed', block, revealBlock: window.firstBlock };
  }

  async revealPending(netuid: number): Promise<RevealResult[]> {
    const { backend } = this;
    const pending = await this.commits.pending(backend.network, backend.hotkey, netuid);
    if (pending.length === 0) return [];
    let block = await backend.nextBlock();
    let onChain: OnChainWeightCommit[] | null = null;
    const results: RevealResult[] = [];

    for (const commit of pending) {
      let { commitBlock, firstRevealBlock, lastRevealBlock } = commit;
      if (commitBlock === null || firstRevealBlock === null || lastRevealBlock === null) {
        onChain ??= await backend.onChainCommits(netuid);
        const found = onChain.find((c) => c.hash === commit.commitHash);
        if (!found) {
          await this.commits.markFailed(commit.id, 'NoWeightsCommitFound');
          results.push({ commitBlock: 0, status: 'failed', error: 'NoWeightsCommitFound' });
          continue;
        }
        ({ commitBlock, firstRevealBlock, lastRevealBlock } = found);
        await this.commits.markIncluded(commit.id, commitBlock, firstRevealBlock, lastRevealBlock);
      }
      if (block < firstRevealBlock) {
        results.push({ commitBlock, status: 'not_yet' });
        continue;
      }
      if (block > lastRevealBlock) {
        await this.commits.markExpired(commit.id);
        this.log?.warn({ netuid, hotkey: backend.hotkey, commitBlock, lastRevealBlock }, 'weight commit expired before it was revealed');
        results.push({ commitBlock, status: 'expired' });
        continue;
      }
      try {
        const revealed = await backend.revealWeights(netuid, commit.uids, commit.values, commit.salt, commit.versionKey);
        block = Math.max(block, revealed);
        await this.commits.markRevealed(commit.id, revealed);
        this.log?.info({ netuid, hotkey: backend.hotkey, commitBlock, block: revealed }, 'weights revealed');
        results.push({ commitBlock, status: 'revealed', block: revealed });
      } catch (error) {
        results.push(await this.revealFailed(netuid, commit.id, commitBlock, error));
      }
    }
    return results;
  }

  private async revealFailed(netuid: number, id: number, commitBlock: number, error: unknown): Promise<RevealResult> {
    if (!isChainVerdict(error)) {
      // Not the chain's verdict (connection, timeout): keep the commit and try again later.
      const message = error instanceof Error ? error.message : String(error);
      this.log?.warn({ netuid, hotkey: this.backend.hotkey, commitBlock, err: message }, 'weight reveal not sent; will retry');
      return { commitBlock, status: 'failed', error: message };
    }
    switch (error.code) {
      case 'RevealTooEarly':
      case 'CommitBlockNotInRevealRange':
        // Our epoch arithmetic and the chain's disagree (newer runtimes count epochs differently);
        // the chain is right. Keep the commit; expiry is decided by the chain's answer too.
        return { commitBlock, status: 'not_yet', error: error.code };
      case 'ExpiredWeightCommit':
        await this.commits.markExpired(id, error.code);
        return { commitBlock, status: 'expired', error: error.code };
      default:
        await this.commits.markFailed(id, error.code);
        this.log?.error({ netuid, hotkey: this.backend.hotkey, commitBlock, code: error.code }, 'weight reveal refused by the chain');
        return { commitBlock, status: 'failed', error: error.code };
    }
  }
}
