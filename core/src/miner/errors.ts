import { defineError } from '../errors.js';

/** Every executor of the class is taken: the job is declined with reason `busy`. */
export class AllExecutorsBusyError extends defineError('HORDE_ALL_EXECUTORS_BUSY') {
  constructor(
    readonly executorClass: string,
    detail?: string,
  ) {
    super(detail ?? `all executors of class ${executorClass} are busy`);
  }
}

/**
 * The class's slots changed between a capacity decision and the reservation it was for (an
 * executor freed or exited meanwhile): the job hub decides again on the new view.
 */
export class PoolChangedError extends defineError('HORDE_POOL_CHANGED') {
  constructor(readonly executorClass: string) {
    super(`the executors of class ${executorClass} changed since the capacity decision`);
  }
}

/** A slot was reserved but the executor manager could not start an executor (`executor_spinup_failed`). */
export class ExecutorUnavailableError extends defineError('HORDE_EXECUTOR_UNAVAILABLE') {
  constructor(
    readonly executorClass: string,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`could not start an executor of class ${executorClass}: ${reason}`, { cause });
  }
}

/** The executor manager did not start an executor within spin-up + startup limit (the cause of an `ExecutorUnavailableError`). */
export class ExecutorStartTimeoutError extends defineError('HORDE_EXECUTOR_START_TIMEOUT') {}

/** Miner settings that cannot work together (found at start, before anything listens). */
export class MinerConfigError extends defineError('HORDE_MINER_CONFIG_INVALID') {}
