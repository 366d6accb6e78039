import { HordeError, type HordeErrorCode } from '../../errors.js';

/** Facilitator workers could not start or lost what they stand on: workers without PostgreSQL, the worker's session gone. */
export class FacilitatorWorkersError extends HordeError {
  constructor(code: Extract<HordeErrorCode, `HORDE_FACILITATOR_WORKERS_${string}`>, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
