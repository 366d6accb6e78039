import type { Logger } from '../../contracts/index.js';
import { defineError } from '../../errors.js';

// The names are the config's (`executor.startupChecks`); the checks themselves live here.
import type { StartupCheckName } from '../../config/sections/executor.js';
export { STARTUP_CHECK_NAMES, type StartupCheckName } from '../../config/sections/executor.js';

/** Facts a check found, logged and (on failure) sent in the failure's context. Flat, for the wire. */
export type CheckFacts = Record<string, string | number | boolean | null>;

/**
 * A startup check said no. The job driver reports it as `V0HordeFailedRequest` with reason
 * `security_check_failed`, the check's name in the message and in the context.
 */
/** Startup checks set up wrongly (a programming error of the embedding code, not a machine's fault). */
export class StartupCheckSetupError extends defineError('HORDE_STARTUP_CHECK_SETUP') {}

export class StartupCheckFailed extends defineError('HORDE_STARTUP_CHECK_FAILED') {
  constructor(
    readonly check: StartupCheckName,
    message: string,
    readonly facts: CheckFacts = {},
    options?: { cause?: unknown },
  ) {
    super(`startup check ${check} failed: ${message}`, options);
  }
}

/** What a check knows about the job it guards. */
export interface CheckContext {
  readonly jobUuid: string;
  readonly executorClass: string;
  /** The job's image (already made available when the container checks run); null if the request named none. */
  readonly image: string | null;
  /** Milliseconds left in the startup stage: a check's own container or subprocess stops by then. */
  readonly timeLeftMs: () => number;
  /** Aborted when the stage deadline passes or the executor is stopped. */
  readonly signal: AbortSignal;
  /** A scratch directory of the job's (visible to dockerd, removed with the job). */
  readonly workDir: string;
  readonly logger: Logger;
}

export interface StartupCheck {
  readonly name: StartupCheckName;
  /** One sentence: what passing this check proves. Logged with the result and written in the README. */
  readonly proves: string;
  /** Runs the check: resolves with the facts it found, or throws `StartupCheckFailed`. */
  run(context: CheckContext): Promise<CheckFacts>;
}
