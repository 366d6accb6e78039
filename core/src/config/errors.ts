import { HordeError } from '../errors.js';

export type ConfigErrorCode =
  /** The file parsed but a value is wrong (or a key unknown). */
  | 'CONFIG_INVALID'
  /** `--config`/`HORDE_CONFIG` names a file that does not exist. */
  | 'CONFIG_NOT_FOUND'
  /** The file could not be read or parsed (YAML/JSON syntax, a TS/JS config that throws). */
  | 'CONFIG_LOAD_FAILED';

/**
 * A config problem the user has to fix. `problems` holds one line per mistake, each naming the
 * setting, what is wrong, and where to set it; `message` is a header plus those lines.
 */
export class ConfigError extends HordeError {
  readonly problems: readonly string[];

  constructor(code: ConfigErrorCode, header: string, problems: readonly string[] = [], options?: { cause?: unknown }) {
    super(code, problems.length ? `${header}\n${problems.map((line) => `  - ${line}`).join('\n')}` : header, options);
    this.problems = problems;
  }
}
