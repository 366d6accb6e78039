import { HordeError } from '../errors.js';

/** A facilitator request failed (network, refusal, malformed reply). `status` is the HTTP status when there was one. */
export class HordeClientError extends HordeError {
  readonly status: number | null;
  readonly body: string | null;

  constructor(message: string, options: { status?: number | null; body?: string | null; cause?: unknown; code?: string } = {}) {
    super(options.code ?? 'HORDE_CLIENT_ERROR', message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status ?? null;
    this.body = options.body ?? null;
  }
}

/** The job (or the page of jobs) does not exist for this client (HTTP 404). */
export class JobNotFoundError extends HordeClientError {
  constructor(message: string, options: { body?: string | null } = {}) {
    super(message, { status: 404, body: options.body ?? null, code: 'JOB_NOT_FOUND' });
  }
}

/** The job did not end within the time the caller allowed. */
export class JobTimeoutError extends HordeClientError {
  constructor(message: string) {
    super(message, { code: 'JOB_TIMEOUT' });
  }
}

/** A streaming job ended, or was never a streaming job, without its server becoming ready. */
export class StreamingNotReadyError extends HordeClientError {
  constructor(message: string) {
    super(message, { code: 'STREAMING_NOT_READY' });
  }
}
