/**
 * Base of every error horde throws on purpose. `code` is stable (tests, logs and API replies match
 * on it); `message` says what went wrong and, where there is one, how to fix it.
 */
export class HordeError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
