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
