/**
 * The client side of putting weights on chain, shared by SubtensorChain and LocalChain so both
 * follow the same rules: wait out `WeightsSetRateLimit` without sending anything, convert weights
 * like the bittensor SDK, and pick per attempt from the subnet's hyperparameters:
 *
 * - commit-reveal off: plain `set_weights`;
 * - on, `CommitRevealWeightsVersion` 4 and a backend that can timelock: a drand-timelocked
 *   commit (`commit_timelocked_weights`) that the chain decrypts and reveals by itself;
 * - on otherwise: a CR-v2 hash commit (salt kept in the store), revealed by us in the reveal
 *   epoch, also after a restart.
 *
 * When the chain answers that the hyperparameters changed under us (`CommitRevealEnabled`,
 * `CommitRevealDisabled`, `IncorrectCommitRevealVersion`) or the answer is lost, the submitter
 * re-reads the state and tries again with backoff until the epoch in which it started ends.
 */
import { decodeAddress } from '@polkadot/util-crypto';

import type {
  Logger,
  RevealResult,
  SubnetHyperparameters,
  WeightSubmissionMode,
  WeightSubmissionResult,
  WeightVector,
} from '../contracts/index.js';
import { randomSalt, weightCommitHash } from './commit-hash.js';
import { nextEpochStartBlock, predictReveal, revealRoundFor, type EpochScheduleState } from './epoch-schedule.js';
import { blocksUntilNextEpoch, revealWindow } from './epochs.js';
import { ChainError, isChainVerdict, UNCERTAIN_OUTCOME_CODES } from './errors.js';
import type { BeaconInfo } from './timelock/beacon.js';
import { encodeWeightsTlockPayload } from './timelock/payload.js';
import { timelockEncrypt } from './timelock/tle.js';
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
  /** The subnet's stateful epoch schedule at the head, where the runtime has one (`SubnetEpochIndex`). */
  readonly epochSchedule?: EpochScheduleState;
  /** `Timestamp::Now` of the head block in Unix seconds: the chain's clock, which reveal rounds are counted on. */
  readonly timestampSeconds?: number;
}

/** `CommitRevealWeightsVersion` of timelocked commits the chain decrypts with drand. */
export const TIMELOCKED_COMMIT_REVEAL_VERSION = 4;

/** What a backend needs to make v4 timelocked commits. */
export interface TimelockBackend {
  /** The beacon the chain decrypts with (quicknet on finney, the LocalChain's own beacon locally). */
  readonly beacon: BeaconInfo;
  /** Seconds per block, to turn the predicted reveal block into a time and a round. */
  readonly blockTimeSeconds: number;
  /** Unix seconds now; used when the state carries no head timestamp. */
  nowSeconds(): number;
  commitTimelockedWeights(netuid: number, commit: Uint8Array, revealRound: number, commitRevealVersion: number): Promise<number>;
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
  /** Present when the chain takes v4 timelocked commits. */
  readonly timelock?: TimelockBackend;
}

export interface WeightSubmitterOptions {
  readonly backend: WeightsBackend;
  readonly commits: WeightCommitStore;
  readonly logger?: Logger | undefined;
  readonly now?: () => number;
  /** Waits between attempts (tests pass a fake); default a real timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** First backoff delay; doubles per attempt up to `maxBackoffMs`. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
}

/** Chain answers that mean "the subnet's commit-reveal settings are not what you read": re-read, retry. */
const MODE_MISMATCH_CODES: ReadonlySet<string> = new Set(['CommitRevealEnabled', 'CommitRevealDisabled', 'IncorrectCommitRevealVersion']);

/** The mode the hyperparameters call for. */
export function chooseWeightsMode(hyper: SubnetHyperparameters, canTimelock: boolean): WeightSubmissionMode {
  if (!hyper.commitRevealEnabled) return 'set_weights';
  if (hyper.commitRevealVersion === TIMELOCKED_COMMIT_REVEAL_VERSION && canTimelock) return 'timelocked_v4';
  return 'commit_reveal_v2';
}

/** First block of the next epoch: attempts stop there, since weights for this epoch would come too late. */
function epochEndBlock(netuid: number, state: WeightsChainState): number {
  const scheduled = state.epochSchedule ? nextEpochStartBlock(state.epochSchedule) : null;
  if (scheduled !== null) return scheduled;
  return state.block + blocksUntilNextEpoch(netuid, state.hyperparameters.tempo, state.block) + 1;
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
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.backoffMs = options.backoffMs ?? 2_000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
  }

  private readonly sleep: (ms: number) => Promise<void>;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;

  async submit(
    netuid: number,
    weights: WeightVector,
    versionKey?: number,
    options: { readonly submissionKey?: string } = {},
  ): Promise<WeightSubmissionResult> {
    const { backend } = this;
    const { submissionKey } = options;
    // Before anything is sent, and before the rate limit (the commit we look for may be what set it).
    if (submissionKey !== undefined) {
      const earlier = await this.reconcile(netuid, submissionKey);
      if (earlier) return earlier;
    }
    let state = await backend.weightsState(netuid);
    const endBlock = epochEndBlock(netuid, state);
    for (let attempt = 1; ; attempt++) {
      if (state.uid === null) {
        throw new ChainError(
          'HotKeyNotRegisteredInSubNet',
          `hotkey ${backend.hotkey} is not registered on subnet ${netuid}; register it before setting weights`,
        );
      }
      const wait = rateLimitWait(state);
      if (wait.blocksRemaining > 0) {
        this.log?.info(
          { netuid, hotkey: backend.hotkey, blocksRemaining: wait.blocksRemaining, nextBlock: wait.nextBlock },
          'weights rate limited; nothing sent',
        );
        return { status: 'rate_limited', blocksRemaining: wait.blocksRemaining, nextBlock: wait.nextBlock };
      }
      const mode = chooseWeightsMode(state.hyperparameters, backend.timelock !== undefined);
      try {
        const result = await this.attempt(netuid, state, mode, weights, versionKey, submissionKey);
        if (attempt > 1) this.log?.info({ netuid, hotkey: backend.hotkey, mode, attempts: attempt }, 'weights landed after retrying');
        return result;
      } catch (error) {
        const retryable =
          error instanceof ChainError &&
          (MODE_MISMATCH_CODES.has(error.code) || (UNCERTAIN_OUTCOME_CODES.has(error.code) && mode !== 'commit_reveal_v2'));
        // An uncertain CR-v2 commit is not re-sent: its row stays pending and revealPending finds it on chain if it landed.
        if (!retryable) throw error;
        const delay = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempt - 1));
        await this.sleep(delay);
        state = await backend.weightsState(netuid);
        if (state.block >= endBlock) {
          this.log?.warn(
            { netuid, hotkey: backend.hotkey, mode, code: error.code, attempts: attempt, endBlock },
            'weights not set before the epoch ended',
          );
          throw error;
        }
        this.log?.warn(
          { netuid, hotkey: backend.hotkey, mode, code: error.code, attempt, retryInMs: delay },
          'weight submission refused or lost; re-reading the subnet and retrying',
        );
      }
    }
  }

  private async attempt(
    netuid: number,
    state: WeightsChainState,
    mode: WeightSubmissionMode,
    weights: WeightVector,
    versionKey: number | undefined,
    submissionKey: string | undefined,
  ): Promise<Exclude<WeightSubmissionResult, { status: 'rate_limited' }>> {
    const { backend } = this;
    const hyper = state.hyperparameters;
    const key = versionKey ?? hyper.weightsVersion;
    const { uids, values } = prepareWeightsForChain(weights, {
      numNeurons: state.subnetSize,
      minAllowedWeights: hyper.minAllowedWeights,
      maxWeightLimit: hyper.maxWeightsLimit / U16_MAX,
    });

    if (mode === 'set_weights') {
      const block = await backend.setWeights(netuid, uids, values, key);
      this.log?.info({ netuid, hotkey: backend.hotkey, mode, block, count: uids.length }, 'weights set');
      return { status: 'set', block, mode };
    }
    if (mode === 'timelocked_v4') return this.commitTimelocked(netuid, state, uids, values, key);

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
      submissionKey,
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
    this.log?.info({ netuid, hotkey: backend.hotkey, mode, block, revealBlock: window.firstBlock, commitHash }, 'weights committed');
    return { status: 'committed', block, revealBlock: window.firstBlock, mode };
  }

  /**
   * A CR-v2 commit already made for `submissionKey` (its row is written before the commit is sent),
   * checked against the chain: on chain (or revealed already), it is the answer and nothing is
   * sent; gone (never landed), its row is closed failed and the caller commits anew. Null: commit.
   */
  private async reconcile(
    netuid: number,
    submissionKey: string,
  ): Promise<Exclude<WeightSubmissionResult, { status: 'rate_limited' }> | null> {
    const { backend } = this;
    const earlier = await this.commits.bySubmissionKey(backend.network, backend.hotkey, netuid, submissionKey);
    if (!earlier || earlier.status === 'failed' || earlier.status === 'expired') return null;
    let { commitBlock, firstRevealBlock, lastRevealBlock } = earlier;
    if (earlier.status === 'pending' && (commitBlock === null || firstRevealBlock === null || lastRevealBlock === null)) {
      // Sent, but whether it landed was never recorded: the chain knows.
      const found = (await backend.onChainCommits(netuid)).find((commit) => commit.hash === earlier.commitHash);
      if (!found) {
        await this.commits.markFailed(earlier.id, 'NoWeightsCommitFound');
        this.log?.warn(
          { netuid, hotkey: backend.hotkey, submissionKey, commitHash: earlier.commitHash },
          'weight commit of this submission never reached the chain; committing again',
        );
        return null;
      }
      ({ commitBlock, firstRevealBlock, lastRevealBlock } = found);
      await this.commits.markIncluded(earlier.id, commitBlock, firstRevealBlock, lastRevealBlock);
    }
    if (commitBlock === null || firstRevealBlock === null) return null;
    this.log?.info(
      { netuid, hotkey: backend.hotkey, submissionKey, block: commitBlock, revealBlock: firstRevealBlock, status: earlier.status },
      'weight commit of this submission already on chain; not sent again',
    );
    return { status: 'committed', block: commitBlock, revealBlock: firstRevealBlock, mode: 'commit_reveal_v2' };
  }

  /**
   * v4: encrypt `WeightsTlockPayload { hotkey, uids, values, version_key }` for the drand round
   * that will be on chain a few blocks after the predicted reveal block, and commit the ciphertext.
   * Nothing is stored: the chain reveals it, and nobody (us included) can open it before.
   */
  private async commitTimelocked(
    netuid: number,
    state: WeightsChainState,
    uids: number[],
    values: number[],
    versionKey: number,
  ): Promise<Exclude<WeightSubmissionResult, { status: 'rate_limited' }>> {
    const { backend } = this;
    const timelock = backend.timelock!;
    const hyper = state.hyperparameters;
    const schedule: EpochScheduleState = state.epochSchedule ?? legacySchedule(netuid, hyper.tempo, state.block - 1);
    const prediction = predictReveal(schedule, hyper.revealPeriodEpochs);
    if (prediction === null)
      throw new ChainError('CommitRevealDisabled', `subnet ${netuid} has tempo 0: no epoch would ever reveal a timelocked commit`);
    const revealRound = revealRoundFor({
      headBlock: schedule.block,
      revealBlock: prediction.revealBlock,
      nowSeconds: state.timestampSeconds ?? timelock.nowSeconds(),
      blockTimeSeconds: timelock.blockTimeSeconds,
      beaconGenesis: timelock.beacon.genesisTime,
      beaconPeriod: timelock.beacon.period,
    });
    const payload = encodeWeightsTlockPayload({ hotkey: decodeAddress(backend.hotkey), uids, values, versionKey: BigInt(versionKey) });
    const commit = timelockEncrypt(timelock.beacon, revealRound, payload);
    const version = hyper.commitRevealVersion ?? TIMELOCKED_COMMIT_REVEAL_VERSION;
    const block = await timelock.commitTimelockedWeights(netuid, commit, revealRound, version);
    this.log?.info(
      {
        netuid,
        hotkey: backend.hotkey,
        mode: 'timelocked_v4',
        block,
        revealBlock: prediction.revealBlock,
        revealRound,
        bytes: commit.length,
      },
      'weights committed (timelocked; the chain reveals them)',
    );
    return { status: 'committed', block, revealBlock: prediction.revealBlock, mode: 'timelocked_v4', revealRound };
  }

  /**
   * Sends the reveals that are due. One pass per subnet at a time: a caller that ticks every few
   * blocks starts the next pass while a slow one (a loaded machine, a slow node) still runs, and
   * two passes would reveal the same commit twice (the second refused by the chain). A call made
   * while a pass runs gets that pass's results.
   */
  revealPending(netuid: number): Promise<RevealResult[]> {
    const running = this.revealing.get(netuid);
    if (running) return running;
    const pass = this.revealPass(netuid).finally(() => this.revealing.delete(netuid));
    this.revealing.set(netuid, pass);
    return pass;
  }

  private readonly revealing = new Map<number, Promise<RevealResult[]>>();

  private async revealPass(netuid: number): Promise<RevealResult[]> {
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

/**
 * The legacy modulo epochs (period tempo + 1, offset netuid + 1, epochs.ts) as a schedule state,
 * for chains that do not expose `SubnetEpochIndex` (the LocalChain, older runtimes): the reveal
 * block it predicts is `revealWindow(...).firstBlock`.
 */
export function legacySchedule(netuid: number, tempo: number, head: number): EpochScheduleState {
  // Legacy epochs start where (block + netuid + 1) is a multiple of tempo + 1.
  return {
    block: head,
    tempo: tempo + 1,
    subnetEpochIndex: Math.floor((head + netuid + 1) / (tempo + 1)),
    lastEpochBlock: head - ((head + netuid + 1) % (tempo + 1)),
    pendingEpochAt: 0,
    blocksSinceLastStep: 0,
  };
}
