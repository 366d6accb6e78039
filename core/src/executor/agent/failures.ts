import { defineError, HordeError } from '../../errors.js';
import type { HordeFailureReason, JobFailureReason, JobStage } from '../../protocol/enums.js';

export type FailureContext = Record<string, string | number | boolean | null>;

/**
 * The job's own fault (ComputeHorde's `JobError`): it ran too long, exited non-zero, or its
 * download / upload failed. Reported as `V0JobFailedRequest`.
 */
export class JobFailure extends defineError('HORDE_JOB_FAILED') {
  constructor(
    readonly reason: JobFailureReason,
    message: string,
    readonly context?: FailureContext,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The network's fault, not the job's (ComputeHorde's `HordeError`): no job details from the miner,
 * an image that cannot be had, an executor bug. Reported as `V0HordeFailedRequest`.
 */
export class HordeFailure extends defineError('HORDE_JOB_HORDE_FAILED') {
  constructor(
    readonly reason: HordeFailureReason,
    message: string,
    readonly context?: FailureContext,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Thrown by a stage that ran past its deadline. The driver turns it into the stage's failure. */
export class StageTimeout extends defineError('HORDE_STAGE_TIMEOUT') {
  constructor(
    readonly stage: JobStage,
    seconds: number,
  ) {
    super(`stage ${stage} ran past its deadline (${seconds.toFixed(1)} s allowed)`);
  }
}
