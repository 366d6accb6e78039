import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Logger } from '../contracts/index.js';

const LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/**
 * Re-logs one line an executor agent printed through the miner's logger, for executor managers
 * that read an agent's output (a local subprocess, an SSH session). The agent logs pino JSON lines:
 * those keep their level, message and fields (job uuid, stage); anything else is logged as text.
 */
export function forwardAgentLine(line: string, logger: Logger): void {
  if (line.trim() === '') return;
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry !== null && typeof entry === 'object' && typeof entry.msg === 'string') {
      const { level, msg, time: _time, pid: _pid, hostname: _hostname, ...fields } = entry;
      logger[LEVELS[level as number] ?? 'info'](fields, msg);
      return;
    }
  } catch {
    // not JSON: fall through
  }
  logger.info({ output: line }, 'executor output');
}

/** Re-logs every line of an agent's output stream (see `forwardAgentLine`). */
export function forwardAgentOutput(stream: Readable, logger: Logger): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => forwardAgentLine(line, logger));
}
