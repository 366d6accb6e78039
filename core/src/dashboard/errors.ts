import { defineError } from '../errors.js';

/** The dashboard could not listen on its host and port (in use, not an address of this machine). */
export class DashboardListenError extends defineError('HORDE_DASHBOARD_LISTEN_FAILED') {}
