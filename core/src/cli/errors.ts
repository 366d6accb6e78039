import { HordeError } from '../errors.js';

/**
 * How the CLI reports a failure: an expected error (a `HordeError`: bad config, missing plugin, …)
 * is one clear message without a stack trace; anything else is a bug and keeps its stack.
 * `HORDE_DEBUG=1` adds stacks to expected errors too.
 */
export function reportError(error: unknown, write: (text: string) => void = (text) => process.stderr.write(text)): void {
  const debug = Boolean(process.env['HORDE_DEBUG']);
  if (error instanceof HordeError) {
    write(`horde: ${error.message}\n`);
    if (debug && error.stack) write(`${error.stack}\n`);
    return;
  }
  write(`horde: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
}
