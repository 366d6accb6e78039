import { createHash, randomUUID } from 'node:crypto';
import type { Clock, HardwareClass, JobResult, JobSpec, Logger, TrustedMinerRunner } from '../contracts/index.js';
import type { Hotkey } from '../keys/index.js';
import { defineError } from '../errors.js';
import { hardwareClassOf, jobSeconds, ValidatorJobDriver, type ValidatorJobEnd, type ValidatorJobLimits } from './job-driver.js';
import { MinerConnection, type MinerTarget } from './miner-client.js';

/** A job on the trusted miner did not produce a result. */
export class TrustedMinerError extends defineError('HORDE_TRUSTED_MINER_FAILED') {}

export interface TrustedMinerClientOptions {
  readonly target: MinerTarget;
  readonly validator: Hotkey;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly hardwareClasses: readonly HardwareClass[];
  readonly limits: ValidatorJobLimits;
  /** Ends every run at once when it aborts (the validator is shutting down). */
  readonly signal?: AbortSignal;
}

/**
 * Runs single jobs on the trusted miner: a normal horde miner in local mode, not on chain, that
 * accepts only this validator. It speaks the same protocol as every miner, so the same job driver
 * is used; the result is returned instead of judged.
 */
export class TrustedMinerClient implements TrustedMinerRunner {
  constructor(private readonly options: TrustedMinerClientOptions) {}

  async run(spec: JobSpec, runOptions: { readonly timeoutMs?: number } = {}): Promise<JobResult> {
    const { target, validator, clock, logger, limits, signal } = this.options;
    const hardwareClass = hardwareClassOf(spec, this.options.hardwareClasses);
    const connection = await MinerConnection.connect(target, {
      validator,
      clock,
      logger,
      timeoutMs: limits.reservationMs + 30_000,
      signal,
    }).catch((error: unknown) => {
      throw new TrustedMinerError(`cannot reach the trusted miner at ${target.host}:${target.port}: ${(error as Error).message}`, {
        cause: error,
      });
    });
    const slackMs = runOptions.timeoutMs !== undefined ? Math.max(0, runOptions.timeoutMs - jobSeconds(spec) * 1000) : limits.slackMs;
    const driver = new ValidatorJobDriver(
      randomUUID(),
      { spec, description: 'trusted-miner run' },
      {
        connection,
        validator,
        clock,
        logger,
        hardwareClass,
        cycle: -1,
        generator: null,
        kind: 'synthetic',
        limits: { ...limits, slackMs },
        unverifiedDetails: 'ground truth',
        signal,
      },
    );
    let end: ValidatorJobEnd;
    try {
      end = await driver.runAlone();
    } finally {
      connection.close({ immediately: signal?.aborted ?? false });
    }
    if (end.result === null) throw new TrustedMinerError(`the trusted miner did not finish the job: ${end.record.details}`);
    return end.result;
  }
}

/**
 * Whether an organic job is cross-checked on the trusted miner: a fixed function of its uuid, so
 * the choice is reproducible and a miner cannot tell which of its jobs are checked.
 */
export function shouldCrossCheck(jobUuid: string, fraction: number): boolean {
  if (fraction <= 0) return false;
  if (fraction >= 1) return true;
  return createHash('sha256').update(`cross-check:${jobUuid}`).digest().readUInt32BE(0) / 2 ** 32 < fraction;
}

/**
 * Runs the organic job again on the trusted miner and compares what both printed and returned.
 * True when they agree; false marks the miner's job as cheated (`correct: false`).
 */
export async function crossCheckOrganicJob(spec: JobSpec, minerResult: JobResult, trustedMiner: TrustedMinerRunner): Promise<boolean> {
  const truth = await trustedMiner.run(spec);
  const sameArtifacts =
    JSON.stringify(Object.entries(truth.artifacts).sort()) === JSON.stringify(Object.entries(minerResult.artifacts).sort());
  return truth.stdout.trim() === minerResult.stdout.trim() && sameArtifacts;
}
