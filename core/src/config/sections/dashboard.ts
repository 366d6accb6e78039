import { z } from 'zod';

/** Hosts that only this machine can reach: the dashboard may serve them without a token. */
export const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', '::1', 'localhost'];

/** Port of the dashboard when the config names none (each role on one machine needs its own). */
export const DEFAULT_DASHBOARD_PORT = 9180;

/**
 * The read-only operator dashboard (and `/metrics`) every long-running role can serve on a port of
 * its own, apart from the protocol ports. Bound to loopback unless configured; a `token` is then
 * required, and every request must carry it (`Authorization: Bearer <token>`, or `?token=` once in
 * a browser, which sets a cookie).
 */
export const dashboardSection = z.strictObject({
  enabled: z.boolean().default(false),
  host: z.string().min(1).default('127.0.0.1'),
  /** 0: any free port (the log line "dashboard listening" names it). */
  port: z.number().int().min(0).max(65_535).default(DEFAULT_DASHBOARD_PORT),
  /** Shared secret for every request; at least 16 characters. Required when `host` is not loopback. */
  token: z.string().min(16, { error: 'a dashboard token must be at least 16 characters' }).nullable().default(null),
  /** How often live pages are refreshed (server-sent events). */
  refreshMs: z.number().int().min(200).max(60_000).default(1_000),
});

export type DashboardSection = z.output<typeof dashboardSection>;

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.includes(host) || host.startsWith('127.');
}
