import type { Logger as PinoLogger } from 'pino';

/**
 * Structured logger (pino). One line per event; put the job uuid and hotkeys in fields
 * (`log.info({ jobUuid, minerHotkey }, 'job accepted')`), not in the message text, so logs can be
 * filtered. Plugins receive a child logger bound to `{ plugin: <name> }`.
 */
export type Logger = PinoLogger;
