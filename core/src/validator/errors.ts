import { HordeError } from '../errors.js';

/** A miner could not be reached, refused the validator, or sent nothing usable in time. */
export class MinerConnectionError extends HordeError {
  constructor(
    readonly minerHotkey: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('MINER_CONNECTION_FAILED', message, options);
  }
}

/** A wait for a miner's message ran out of time. */
export class MinerTimeoutError extends HordeError {
  constructor(message: string) {
    super('MINER_TIMEOUT', message);
  }
}

/** The validator could not be started or configured (missing plugins, bad config). */
export class ValidatorConfigError extends HordeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('VALIDATOR_CONFIG', message, options);
  }
}

/** Weights could not be put on chain after every attempt. */
export class WeightSettingError extends HordeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('WEIGHT_SETTING_FAILED', message, options);
  }
}

/**
 * A batch (or a job of it) was stopped because the validator is shutting down. Its job outcomes
 * are not stored: the miners did nothing wrong, and the batch of that cycle runs again if the
 * validator comes back within the cycle.
 */
export class BatchAbortedError extends HordeError {
  constructor(message = 'batch aborted: the validator is shutting down', options?: { cause?: unknown }) {
    super('BATCH_ABORTED', message, options);
  }
}

/** A miner broke the protocol for one job (e.g. flooded its message queue); the job ends as a horde failure. */
export class MinerProtocolError extends HordeError {
  constructor(message: string) {
    super('MINER_PROTOCOL_VIOLATION', message);
  }
}

/** A job prefix (`horde validator jobs <uuid>`, the dashboard's job page) names more than one job. */
export class AmbiguousJobError extends HordeError {
  constructor(message: string) {
    super('VALIDATOR_JOB_AMBIGUOUS', message);
  }
}

/** No stored job has the uuid (or prefix) asked for. */
export class JobNotFoundError extends HordeError {
  constructor(message: string) {
    super('VALIDATOR_JOB_NOT_FOUND', message);
  }
}
