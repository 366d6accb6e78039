import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Logger } from '@horde/core';

const LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/**
 * Re-logs what an agent prints through the miner's logger. The agent logs pino JSON lines: those
 * keep their level, message and fields (job uuid, stage); anything else is logged as plain text.
 */
export function forwardOutput(stream: Readable, logger: Logger): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
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
  });
}
