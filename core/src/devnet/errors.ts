import { defineError } from '../errors.js';

/** A devnet flag is wrong; nothing has been started. */
export class DevnetOptionsError extends defineError('HORDE_DEVNET_BAD_OPTIONS') {}

/** Something the devnet needs is not there (Docker engine, job image, PostgreSQL, plugin scripts). */
export class DevnetPreflightError extends defineError('HORDE_DEVNET_PREFLIGHT_FAILED') {}

/** One of the devnet's processes failed, or the run did not finish in time. */
export class DevnetRunError extends defineError('HORDE_DEVNET_RUN_FAILED') {}

/** The run was stopped by SIGINT/SIGTERM. */
export class DevnetInterruptedError extends defineError('HORDE_DEVNET_INTERRUPTED') {
  constructor(readonly signal: NodeJS.Signals) {
    super(`stopped by ${signal}`);
  }
}
