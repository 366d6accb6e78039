import { HordeError } from '../../errors.js';

/** The job's image cannot be made available (not local, and the pull failed or is impossible). */
export class ImageNotFoundError extends HordeError {
  constructor(
    readonly image: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('IMAGE_NOT_FOUND', message, options);
  }
}

/** The job asked for GPUs (preset `nvidia_all`) and this engine cannot provide them. */
export class GpuUnavailableError extends HordeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('GPU_UNAVAILABLE', message, options);
  }
}

/** The runner itself failed (engine unreachable, container could not be created or started). */
export class JobRunnerError extends HordeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('JOB_RUNNER_FAILED', message, options);
  }
}
