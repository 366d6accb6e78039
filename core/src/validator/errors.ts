import { defineError } from '../errors.js';

/** A miner could not be reached, refused the validator, or sent nothing usable in time. */
export class MinerConnectionError extends defineError('HORDE_MINER_CONNECTION_FAILED') {
  constructor(
    readonly minerHotkey: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A wait for a miner's message ran out of time. */
export class MinerTimeoutError extends defineError('HORDE_MINER_TIMEOUT') {}

/** The validator could not be started or configured (missing plugins, bad config). */
export class ValidatorConfigError extends defineError('HORDE_VALIDATOR_CONFIG') {}

/** Weights could not be put on chain after every attempt. */
export class WeightSettingError extends defineError('HORDE_WEIGHT_SETTING_FAILED') {}

/**
 * A batch (or a job of it) was stopped because the validator is shutting down. Its job outcomes
 * are not stored: the miners did nothing wrong, and the batch of that cycle runs again if the
 * validator comes back within the cycle.
 */
export class BatchAbortedError extends defineError('HORDE_BATCH_ABORTED') {
  constructor(message = 'batch aborted: the validator is shutting down', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A miner broke the protocol for one job (e.g. flooded its message queue); the job ends as a horde failure. */
export class MinerProtocolError extends defineError('HORDE_MINER_PROTOCOL_VIOLATION') {}

/** A job prefix (`horde validator jobs <uuid>`, the dashboard's job page) names more than one job. */
export class AmbiguousJobError extends defineError('HORDE_VALIDATOR_JOB_AMBIGUOUS') {}

/** No stored job has the uuid (or prefix) asked for. */
export class JobNotFoundError extends defineError('HORDE_VALIDATOR_JOB_NOT_FOUND') {}
