import { HordeError } from '../../errors.js';
import type { HordeFailureReason, JobFailureReason, JobStage } from '../../protocol/enums.js';

export type FailureContext = Record<string, string | number | boolean | null>;

/**
 * The job's own fault (ComputeHorde's `JobError`): it ran too long, exited non-zero, or its
 * download / upload failed. Reported as `V0JobFailedRequest`.
 */
export class JobFailure extends HordeError {
  constructor(
    readonly reason: JobFailureReason,
    message: string,
    readonly context?: FailureContext,
    options?: { cause?: unknown },
  ) {
    super('JOB_FAILED', message, options);
  }
}

/**
 * The network's fault, not the job's (ComputeHorde's `HordeError`): no job details from the miner,
 * an image that cannot be had, an executor bug. Reported as `V0HordeFailedRequest`.
 */
export class HordeFailure extends HordeError {
  constructor(
    readonly reason: HordeFailureReason,
    message: string,
    readonly context?: FailureContext,
    options?: { cause?: unknown },
  ) {
    super('HORDE_FAILED', message, options);
  }
}

/** Thrown by a stage that ran past its deadline. The driver turns it into the stage's failure. */
export class StageTimeout extends HordeError {
  constructor(readonly stage: JobStage, seconds: number) {
    super('STAGE_TIMEOUT', `stage ${stage} ran past its deadline (${seconds.toFixed(1)} s allowed)`);
  }
}
