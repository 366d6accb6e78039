import { HordeError } from '../../errors.js';

/**
 * Validator workers could not start or lost what they stand on: workers without PostgreSQL, the
 * queue that would not start, the session holding the leader lock gone.
 */
export class ValidatorWorkersError extends HordeError {
  constructor(
    code: 'VALIDATOR_WORKERS_NEED_POSTGRES' | 'VALIDATOR_WORKERS_QUEUE' | 'VALIDATOR_WORKERS_SESSION_LOST',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}
