import { z } from 'zod';

export const logLevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export const logSection = z.strictObject({
  level: logLevelSchema.default('info'),
  /** Human-readable lines instead of JSON. Unset: pretty when stdout is a terminal. */
  pretty: z.boolean().optional(),
  /** Write JSON lines to this file instead of stdout (relative to the config file's directory). */
  file: z.string().min(1).optional(),
});

export type LogSection = z.output<typeof logSection>;
