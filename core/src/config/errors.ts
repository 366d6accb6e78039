import { HordeError, type HordeErrorCode } from '../errors.js';

/** The catalogue's `HORDE_CONFIG_*` codes (core/src/error-catalogue.ts says what each means). */
export type ConfigErrorCode = Extract<HordeErrorCode, `HORDE_CONFIG_${string}`>;

/**
 * A config problem the user has to fix. `problems` holds one line per mistake, each naming the
 * setting, what is wrong, and where to set it; `message` is a header plus those lines.
 */
export class ConfigError extends HordeError {
  declare readonly code: ConfigErrorCode;

  readonly problems: readonly string[];

  constructor(code: ConfigErrorCode, header: string, problems: readonly string[] = [], options?: { cause?: unknown }) {
    super(code, problems.length ? `${header}\n${problems.map((line) => `  - ${line}`).join('\n')}` : header, options);
    this.problems = problems;
  }
}
