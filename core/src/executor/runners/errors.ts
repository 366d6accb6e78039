import { defineError } from '../../errors.js';

/** The job's image cannot be made available (not local, and the pull failed or is impossible). */
export class ImageNotFoundError extends defineError('HORDE_IMAGE_NOT_FOUND') {
  constructor(
    readonly image: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The job asked for GPUs (preset `nvidia_all`) and this engine cannot provide them. */
export class GpuUnavailableError extends defineError('HORDE_GPU_UNAVAILABLE') {}

/** The runner itself failed (engine unreachable, container could not be created or started). */
export class JobRunnerError extends defineError('HORDE_JOB_RUNNER_FAILED') {}
