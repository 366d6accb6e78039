/**
 * A failure the user can fix (bad flag, bad name, non-empty directory): the CLI prints the message
 * without a stack trace and exits 1. `code` is stable, for tests and scripts.
 */
export class CliError extends Error {
  /**
   * @param {'USAGE' | 'UNKNOWN_KIND' | 'INVALID_NAME' | 'INVALID_VALUE' | 'TARGET_NOT_EMPTY' | 'TARGET_NOT_DIRECTORY' | 'CANCELLED' | 'INSTALL_FAILED'} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = 'CliError';
    this.code = code;
  }
}
