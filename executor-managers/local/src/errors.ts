import { defineError } from '@horde/core';

/**
 * The manager refused to start an executor: a class it does not run, no free executor, an empty
 * command line. The miner reports it to the validator as `executor_spinup_failed`.
 */
export class LocalExecutorStartError extends defineError('HORDE_LOCAL_EXECUTOR_START_REFUSED') {}
