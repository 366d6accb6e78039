import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Clock, Logger, Metrics } from '../contracts/index.js';
import { isLoopbackHost, type DashboardSection } from '../config/sections/dashboard.js';
import { DashboardListenError } from './errors.js';
import { renderFragments, renderPage } from './render.js';
import type { DashboardPage, PageSource } from './view.js';

/** Cookie a browser keeps the token in after opening `/?token=…` once. */
const TOKEN_COOKIE = 'horde_dashboard_token';

export interface DashboardServerOptions {
  readonly settings: Pick<DashboardSection, 'host' | 'port' | 'token' | 'refreshMs'>;
  readonly page: PageSource;
  /**
   * Detail pages by kind, served at `GET /<kind>/<id>` (e.g. `jobs` → `/jobs/<uuid>`): a snapshot
   * page, or null for an id that names nothing (404).
   */
  readonly details?: Readonly<Record<string, (id: string) => Promise<DashboardPage | null>>>;
  /** The role's registry, served at `/metrics` (roles without another HTTP port are scraped here). */
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
}

export interface DashboardServer {
  /** `http://host:port/`, with loopback for a wildcard host. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieToken(request: FastifyRequest): string | null {
  const header = request.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === TOKEN_COOKIE) return decodeURIComponent(value.join('='));
  }
  return null;
}

function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : null;
}

/**
 * The read-only dashboard of one role: `GET /` (the page, server-rendered), `GET /events` (the same
 * page's parts as server-sent events, every `refreshMs` while someone watches and only when
 * something changed), `GET /api/page` (the page as JSON), `GET /<kind>/<id>` (detail pages, e.g. a
 * job's), `GET /metrics` and `GET /healthz` (no token). Every other method is refused with 405: nothing here changes the role's state.
 */
export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const { settings, clock } = options;
  const log = options.logger.child({ component: 'dashboard' });
  const app: FastifyInstance = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  const token = settings.token;
  if (token === null && !isLoopbackHost(settings.host)) {
    // The config schema refuses this; embedders that build settings by hand get the same answer.
    throw new DashboardListenError(`dashboard on ${settings.host} needs a token: set dashboard.token, or keep host 127.0.0.1`);
  }

  const authorised = (request: FastifyRequest): boolean => {
    if (token === null) return true;
    const given = bearerToken(request) ?? cookieToken(request) ?? (request.query as Record<string, unknown>)['token'];
    return typeof given === 'string' && sameSecret(given, token);
  };

  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return reply
        .code(405)
        .header('allow', 'GET, HEAD')
        .send({ error: 'read-only', message: 'the dashboard is read-only: only GET requests' });
    }
    if (request.url === '/healthz') return;
    if (!authorised(request)) {
      log.warn({ ip: request.ip, url: request.url.replace(/token=[^&]*/, 'token=…') }, 'dashboard request without a valid token refused');
      return reply.code(401).header('www-authenticate', 'Bearer realm="horde dashboard"').send({
        error: 'unauthorised',
        message: 'this dashboard needs its token: Authorization: Bearer <token>, or open /?token=<token> once',
      });
    }
    const query = request.query as Record<string, unknown>;
    if (token !== null && typeof query['token'] === 'string') {
      // Keep the token out of the address bar and history: a cookie from now on.
      reply.header('set-cookie', `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`);
    }
  });

  app.setErrorHandler((error, request, reply) => {
    log.warn({ err: error, url: request.url }, 'dashboard page could not be built');
    return reply
      .code(503)
      .type('text/plain; charset=utf-8')
      .send(`The dashboard page could not be built (${(error as Error).message}); it is retried on the next request.`);
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/', async (_request, reply) => {
    const page = await options.page();
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(renderPage(page, clock.now()));
  });
  app.get('/api/page', async (_request, reply) => reply.header('cache-control', 'no-store').send(await options.page()));
  const details = options.details ?? {};
  app.get('/:kind/:id', async (request, reply) => {
    const { kind, id } = request.params as { kind: string; id: string };
    const source = Object.hasOwn(details, kind) ? details[kind] : undefined;
    // Ids are uuids and the like: anything else names nothing here (and is never echoed back).
    const page = source && /^[A-Za-z0-9._-]{1,128}$/.test(id) ? await source(id) : null;
    if (!page)
      return reply
        .code(404)
        .type('text/plain; charset=utf-8')
        .send(`Nothing here: no such ${source ? kind.replace(/s$/, '') : 'page'} on this dashboard.`);
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(renderPage(page, clock.now(), { root: '../' }));
  });
  app.get('/metrics', async (_request, reply) => reply.type(options.metrics.contentType).send(await options.metrics.metrics()));

  // One refresher for every watcher: the page is built once per tick, not once per browser tab.
  const watchers = new Set<FastifyReply>();
  let last = '';
  let timer: NodeJS.Timeout | null = null;
  let building = false;
  const broadcast = async (force: FastifyReply | null) => {
    if (building) return;
    building = true;
    try {
      const fragments = renderFragments(await options.page(), clock.now());
      const key = JSON.stringify({ ...fragments, generatedAt: 0 });
      const frame = `event: page\ndata: ${JSON.stringify(fragments)}\n\n`;
      if (force) force.raw.write(frame);
      if (key !== last) {
        last = key;
        for (const watcher of watchers) if (watcher !== force) watcher.raw.write(frame);
      }
    } catch (error) {
      log.warn({ err: error }, 'dashboard page could not be built; watchers keep the last one');
    } finally {
      building = false;
    }
  };
  app.get('/events', (request, reply) => {
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    reply.raw.write(`retry: ${Math.max(1_000, settings.refreshMs)}\n\n`);
    watchers.add(reply);
    timer ??= setInterval(() => void broadcast(null), settings.refreshMs);
    request.raw.on('close', () => {
      watchers.delete(reply);
      if (watchers.size === 0 && timer) {
        clearInterval(timer);
        timer = null;
      }
    });
    void broadcast(reply);
  });

  try {
    await app.listen({ host: settings.host, port: settings.port });
  } catch (error) {
    await app.close().catch(() => undefined);
    throw new DashboardListenError(
      `dashboard could not listen on ${settings.host}:${settings.port}: ${(error as Error).message}; set dashboard.port to a free port`,
      { cause: error },
    );
  }
  const port = (app.server.address() as AddressInfo).port;
  const host =
    settings.host === '0.0.0.0' || settings.host === '::'
      ? '127.0.0.1'
      : settings.host.includes(':')
        ? `[${settings.host}]`
        : settings.host;
  const url = `http://${host}:${port}/`;
  log.info({ url, tokenRequired: token !== null }, 'dashboard listening');
  return {
    url,
    port,
    close: async () => {
      if (timer) clearInterval(timer);
      timer = null;
      for (const watcher of watchers) watcher.raw.end();
      watchers.clear();
      await app.close();
    },
  };
}
