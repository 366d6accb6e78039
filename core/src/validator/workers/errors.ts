import { HordeError, type HordeErrorCode } from '../../errors.js';

/**
 * Validator workers could not start or lost what they stand on: workers without PostgreSQL, the
 * queue that would not start, the session holding the leader lock gone.
 */
export class ValidatorWorkersError extends HordeError {
  constructor(code: Extract<HordeErrorCode, `HORDE_VALIDATOR_WORKERS_${string}`>, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
