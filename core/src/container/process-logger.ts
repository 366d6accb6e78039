import type { Logger } from '../contracts/index.js';
import type { LogSection } from '../config/sections/log.js';
import { createLogger } from '../logging/index.js';
import { definedFields } from '../object/defined-fields.js';

/** The long-running roles a horde process can be. */
export type ProcessRole = 'miner' | 'validator' | 'facilitator' | 'executor';

/**
 * A role's process logger: level, pretty and file from `log`, every line saying which role wrote
 * it. `log.file` applies to every role but the executor: an executor's stdout is its channel to
 * the executor manager that forwards each line into the miner's log, so it never writes a file of
 * its own. Apart from `openProcess`, so that the executor agent (which opens nothing else) gets its
 * logger without loading the dependency container (tsyringe, reflect-metadata) before it connects.
 */
export function processLogger(log: LogSection, role: ProcessRole): Logger {
  return createLogger({
    level: log.level,
    base: { role },
    ...definedFields({ pretty: log.pretty, destination: role === 'executor' ? undefined : log.file || undefined }),
  });
}
