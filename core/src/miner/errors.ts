import { HordeError } from '../errors.js';

/** Every executor of the class is taken: the job is declined with reason `busy`. */
export class AllExecutorsBusyError extends HordeError {
  constructor(readonly executorClass: string, detail?: string) {
    super('ALL_EXECUTORS_BUSY', detail ?? `all executors of class ${executorClass} are busy`);
  }
}

/** A slot was reserved but the executor manager could not start an executor (`executor_spinup_failed`). */
export class ExecutorUnavailableError extends HordeError {
  constructor(readonly executorClass: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('EXECUTOR_UNAVAILABLE', `could not start an executor of class ${executorClass}: ${reason}`, { cause });
  }
}

/** Miner settings that cannot work together (found at start, before anything listens). */
export class MinerConfigError extends HordeError {
  constructor(message: string) {
    super('MINER_CONFIG_INVALID', message);
  }
}
