import { HordeError } from '../errors.js';

/** A devnet flag is wrong; nothing has been started. */
export class DevnetOptionsError extends HordeError {
  constructor(message: string) {
    super('DEVNET_BAD_OPTIONS', message);
  }
}

/** Something the devnet needs is not there (Docker engine, job image, PostgreSQL, plugin scripts). */
export class DevnetPreflightError extends HordeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DEVNET_PREFLIGHT_FAILED', message, options);
  }
}

/** One of the devnet's processes failed, or the run did not finish in time. */
export class DevnetRunError extends HordeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DEVNET_RUN_FAILED', message, options);
  }
}

/** The run was stopped by SIGINT/SIGTERM. */
export class DevnetInterruptedError extends HordeError {
  constructor(readonly signal: NodeJS.Signals) {
    super('DEVNET_INTERRUPTED', `stopped by ${signal}`);
  }
}
