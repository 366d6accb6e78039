import { HordeError } from '../errors.js';

/** The dashboard could not listen on its host and port (in use, not an address of this machine). */
export class DashboardListenError extends HordeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DASHBOARD_LISTEN_FAILED', message, options);
  }
}
