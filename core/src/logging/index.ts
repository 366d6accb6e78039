import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Level } from 'pino';
import type { Logger } from '../contracts/index.js';

export type LogLevel = Level | 'silent';

export interface LoggerOptions {
  readonly level?: LogLevel;
  /** Human-readable lines (colored on a terminal). Default: when the destination is a terminal. Never for a file. */
  readonly pretty?: boolean;
  /**
   * Where lines go: `'stdout'` (default), `'stderr'` (commands whose stdout is their answer),
   * a file path (JSON lines, appended, directory created), or a stream.
   */
  readonly destination?: 'stdout' | 'stderr' | string | DestinationStream;
  /** Fields on every line, e.g. `{ role: 'miner' }`. */
  readonly base?: Record<string, unknown>;
}

const require = createRequire(import.meta.url);

function isTerminal(destination: LoggerOptions['destination']): boolean {
  if (destination === undefined || destination === 'stdout') return Boolean(process.stdout.isTTY);
  if (destination === 'stderr') return Boolean(process.stderr.isTTY);
  return false;
}

function fd(destination: LoggerOptions['destination']): 1 | 2 | undefined {
  if (destination === undefined || destination === 'stdout') return 1;
  if (destination === 'stderr') return 2;
  return undefined;
}

/**
 * The process logger (pino): JSON lines, or pino-pretty lines on a terminal. Pretty printing runs
 * in-process (not a pino transport worker), so a line is written before the process can exit.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const base = options.base ?? {};
  const { destination } = options;
  const stdio = fd(destination);

  if (typeof destination === 'string' && stdio === undefined) {
    // A file: the devnet gives each process its own log file. Always JSON, so it can be parsed.
    return pino({ level, base }, pino.destination({ dest: destination, mkdir: true, append: true, sync: true }));
  }
  const target = typeof destination === 'object' ? destination : (stdio ?? 1);
  if (options.pretty ?? isTerminal(destination)) {
    // pino-pretty is CommonJS; requiring it here keeps it off the path of JSON-only processes.
    const pretty = require('pino-pretty') as (options: Record<string, unknown>) => DestinationStream;
    return pino(
      { level, base },
      pretty({
        destination: target,
        sync: true,
        colorize: isTerminal(destination),
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname',
      }),
    );
  }
  return pino({ level, base }, typeof target === 'number' ? pino.destination({ dest: target, sync: true }) : target);
}

/** A logger that drops everything (tests, and plugin contexts built without a process logger). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

export { forwardAgentLine, forwardAgentOutput } from './agent-output.js';
