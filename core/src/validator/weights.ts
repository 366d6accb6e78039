import type { Chain, Clock, Logger, RevealResult, WeightSubmissionResult, WeightVector } from '../contracts/index.js';
import type { ValidatorStore } from './store.js';
import { writeAcknowledged } from './store-writes.js';

export interface WeightSetterOptions {
  readonly chain: Chain;
  readonly store: ValidatorStore;
  readonly netuid: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly attempts: number;
  readonly retryDelayMs: number;
  /** Default: the subnet's `weightsVersion` hyperparameter. */
  readonly versionKey?: number;
  /** Stops retrying when it aborts (the validator is shutting down). */
  readonly signal?: AbortSignal;
}

/** The name of a cycle's weight submission on chain (`Chain.submitWeights`): one per cycle. */
export function weightsSubmissionKey(cycle: number): string {
  return `validator-cycle:${cycle}`;
}

/**
 * Puts a cycle's weights on chain through the `Chain` contract, which commits (commit-reveal
 * subnets) or sets them. Errors and rate limits are retried a bounded number of times; every
 * attempt is recorded in `validator_weights`, so an operator can see what was sent, when, and why
 * it did or did not land.
 */
export class WeightSetter {
  constructor(private readonly options: WeightSetterOptions) {}

  private async versionKey(): Promise<number> {
    if (this.options.versionKey !== undefined) return this.options.versionKey;
    return (await this.options.chain.hyperparameters(this.options.netuid)).weightsVersion;
  }

  /** Submits `vector` for `cycle`; null when every attempt failed (recorded, logged). */
  async submit(cycle: number, vector: WeightVector): Promise<WeightSubmissionResult | null> {
    const { chain, store, netuid, clock, logger } = this.options;
    const uids = vector.map((entry) => entry.uid);
    const weights = vector.map((entry) => entry.weight);
    for (let attempt = 1; attempt <= this.options.attempts; attempt++) {
      let result: WeightSubmissionResult;
      try {
        // Keyed by cycle: after a crash that lost the record below, the same cycle's submission
        // finds its commit on chain instead of committing twice.
        result = await chain.submitWeights(netuid, vector, await this.versionKey(), { submissionKey: weightsSubmissionKey(cycle) });
      } catch (error) {
        logger.warn({ cycle, attempt, err: error }, 'weight submission failed');
        // Only a note for the operator: nothing landed, so losing it loses nothing.
        await store
          .recordWeights(
            { cycle, status: 'failed', block: null, revealBlock: null, uids, weights, attempts: attempt, error: (error as Error).message },
            clock.now(),
          )
          .catch((recordError: unknown) => logger.warn({ cycle, err: recordError }, 'could not record the failed weight submission'));
        if (attempt < this.options.attempts && !(await this.pause(cycle, attempt))) return null;
        continue;
      }
      // The chain has the weights now: the record must survive a store restart, since a cycle
      // without a `set`/`committed` row is scored and sent again after a restart.
      const row = {
        cycle,
        status: result.status,
        block: result.status === 'rate_limited' ? null : result.block,
        revealBlock: result.status === 'committed' ? result.revealBlock : null,
        uids,
        weights,
        attempts: attempt,
        error: result.status === 'rate_limited' ? `rate limited for ${result.blocksRemaining} more blocks` : null,
        mode: result.status === 'rate_limited' ? null : (result.mode ?? null),
        revealRound: result.status === 'committed' ? (result.revealRound ?? null) : null,
      };
      const recordedAt = clock.now();
      await writeAcknowledged('weights', () => store.recordWeights(row, recordedAt), {
        logger,
        signal: this.options.signal,
        fields: { cycle },
      });
      if (result.status !== 'rate_limited') {
        logger.info(
          {
            cycle,
            status: result.status,
            mode: result.mode,
            block: result.block,
            ...(result.status === 'committed' ? { revealBlock: result.revealBlock, revealRound: result.revealRound } : {}),
            uids: uids.length,
          },
          result.mode === 'timelocked_v4' ? 'weights committed, timelocked; the chain reveals them' : 'weights submitted',
        );
        return result;
      }
      logger.info({ cycle, blocksRemaining: result.blocksRemaining }, 'weights rate limited; will retry');
      if (attempt < this.options.attempts && !(await this.pause(cycle, attempt))) return null;
    }
    logger.error({ cycle, attempts: this.options.attempts }, 'weights were not set this cycle');
    return null;
  }

  /** Waits before the next attempt; false when the validator is shutting down. */
  private async pause(cycle: number, attempt: number): Promise<boolean> {
    try {
      await this.options.clock.sleep(this.options.retryDelayMs, this.options.signal);
      return true;
    } catch {
      this.options.logger.info({ cycle, attempts: attempt }, 'weight retries stopped: the validator is shutting down');
      return false;
    }
  }

  /** Sends reveals whose time has come (a no-op without commit-reveal). Never throws. */
  async revealDue(): Promise<RevealResult[]> {
    try {
      return await this.options.chain.revealPendingWeights(this.options.netuid);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'revealing committed weights failed; will retry');
      return [];
    }
  }
}
