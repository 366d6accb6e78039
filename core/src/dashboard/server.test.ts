import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { Counter } from 'prom-client';
import { hordeConfigSchema } from '../config/schema.js';
import { silentLogger } from '../logging/index.js';
import { createMetricsRegistry } from '../metrics/index.js';
import { SystemClock } from '../time/clock.js';
import { DashboardListenError } from './errors.js';
import { startDashboardServer, type DashboardServer } from './server.js';
import type { DashboardPage } from './view.js';

const servers: DashboardServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

function pageWith(jobs: number): DashboardPage {
  return {
    title: 'horde test',
    subtitle: 'a <b>subtitle</b>',
    tiles: [{ label: 'Jobs', value: String(jobs) }],
    sections: [
      {
        kind: 'table',
        id: 'jobs',
        title: 'Jobs',
        columns: ['Job', 'Status'],
        rows: Array.from({ length: jobs }, (_, i) => [`job-${i}`, { text: 'running', tone: 'ok' }]),
        empty: 'No job.',
      },
    ],
  };
}

async function start(
  options: {
    token?: string | null;
    page?: () => Promise<DashboardPage>;
    refreshMs?: number;
    details?: Record<string, (id: string) => Promise<DashboardPage | null>>;
  } = {},
) {
  const metrics = createMetricsRegistry({ defaultMetrics: false });
  new Counter({ name: 'horde_test_things_total', help: 'things', registers: [metrics] }).inc(3);
  const server = await startDashboardServer({
    settings: { host: '127.0.0.1', port: 0, token: options.token ?? null, refreshMs: options.refreshMs ?? 200 },
    page: options.page ?? (async () => pageWith(1)),
    metrics,
    logger: silentLogger(),
    clock: new SystemClock(),
    ...(options.details ? { details: options.details } : {}),
  });
  servers.push(server);
  return server;
}

/** Reads server-sent events until `until` returns true for the events so far. */
function readEvents(url: string, until: (events: string[]) => boolean, headers: Record<string, string> = {}): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const events: string[] = [];
    const req = httpRequest(url, { headers }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        const frames = buffer.split('\n\n');
        buffer = frames.pop() ?? '';
        for (const frame of frames) if (frame.startsWith('event: page')) events.push(frame.slice(frame.indexOf('data: ') + 6));
        if (until(events)) {
          req.destroy();
          resolve(events);
        }
      });
    });
    req.on('error', (error) => (events.length > 0 ? resolve(events) : reject(error)));
    req.end();
  });
}

describe('dashboard server', () => {
  it('serves detail pages at /<kind>/<id> as snapshots with a way back, 404 for what names nothing, behind the token', async () => {
    const asked: string[] = [];
    const server = await start({
      token: 'detail-secret',
      details: {
        jobs: async (id) => {
          asked.push(id);
          return id === 'job-1'
            ? {
                ...pageWith(1),
                title: 'Job job-1',
                sections: [
                  {
                    kind: 'table',
                    id: 'history-wide',
                    title: 'Status history',
                    columns: ['Status'],
                    rows: [['sent'], [{ text: 'x', href: 'javascript:alert(1)' }]],
                    empty: '',
                  },
                ],
              }
            : null;
        },
      },
    });
    const auth = { authorization: 'Bearer detail-secret' };
    const reply = await fetch(new URL('jobs/job-1', server.url), { headers: auth });
    expect(reply.status).toBe(200);
    const html = await reply.text();
    expect(html).toContain('<h1>Job job-1</h1>');
    expect(html).toContain('href="../"');
    expect(html).not.toContain('EventSource');
    // An href that is not a link within the dashboard is dropped, whatever put it there.
    expect(html).not.toContain('javascript:');
    expect((await fetch(new URL('jobs/job-2', server.url), { headers: auth })).status).toBe(404);
    expect((await fetch(new URL('batches/1', server.url), { headers: auth })).status).toBe(404);
    // An id that is not an id never reaches the page source and is not echoed back.
    const odd = await fetch(new URL('jobs/%3Cscript%3E', server.url), { headers: auth });
    expect(odd.status).toBe(404);
    expect(await odd.text()).not.toContain('<script>');
    expect(asked).toEqual(['job-1', 'job-2']);
    expect((await fetch(new URL('jobs/job-1', server.url))).status).toBe(401);
  });

  it('serves the page server-rendered, escaped, with its sections, and /metrics from the role registry', async () => {
    const server = await start();
    const reply = await fetch(server.url);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toContain('text/html');
    const html = await reply.text();
    expect(html).toContain('<h1>horde test</h1>');
    expect(html).toContain('a &lt;b&gt;subtitle&lt;/b&gt;');
    expect(html).toContain('id="section-jobs"');
    expect(html).toContain('<span class="pill ok">running</span>');
    // No external resources: everything inline.
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)=/);
    const metrics = await (await fetch(new URL('metrics', server.url))).text();
    expect(metrics).toContain('horde_test_things_total 3');
  });

  it('pushes the page again over server-sent events when it changes', async () => {
    let jobs = 1;
    const server = await start({ page: async () => pageWith(jobs) });
    setTimeout(() => (jobs = 3), 300);
    const events = await readEvents(new URL('events', server.url).href, (e) => e.some((data) => data.includes('job-2')));
    const first = JSON.parse(events[0]!) as { tiles: string; order: string[]; cards: string; sections: Record<string, string> };
    expect(first.order).toEqual(['jobs']);
    expect(first.cards).toContain('<section class="card" id="section-jobs"');
    expect(first.sections['jobs']).toContain('job-0');
    expect(first.sections['jobs']).not.toContain('job-2');
    expect(events.at(-1)).toContain('job-2');
  });

  it('is read-only: every method but GET is refused with 405', async () => {
    const server = await start();
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const reply = await fetch(server.url, { method });
      expect(reply.status).toBe(405);
      expect(reply.headers.get('allow')).toBe('GET, HEAD');
    }
  });

  it('with a token: refuses requests without it, takes a bearer header, and a ?token= once in a browser (then a cookie)', async () => {
    const token = 'a-long-enough-secret-token';
    const server = await start({ token });
    expect((await fetch(server.url)).status).toBe(401);
    expect((await fetch(new URL('metrics', server.url))).status).toBe(401);
    expect((await fetch(new URL('events', server.url))).status).toBe(401);
    expect((await fetch(server.url, { headers: { authorization: 'Bearer wrong-token-of-some-length' } })).status).toBe(401);
    expect((await fetch(server.url, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await fetch(new URL('healthz', server.url))).status).toBe(200);

    const first = await fetch(`${server.url}?token=${token}`);
    expect(first.status).toBe(200);
    const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
    expect(cookie).toMatch(/^horde_dashboard_token=/);
    expect((await fetch(new URL('api/page', server.url), { headers: { cookie } })).status).toBe(200);
    const events = await readEvents(new URL('events', server.url).href, (e) => e.length > 0, { cookie });
    expect(events).toHaveLength(1);
  });

  it('keeps serving the last page when building one fails, and says why it cannot listen', async () => {
    let fail = false;
    const server = await start({ page: async () => (fail ? Promise.reject(new Error('store gone')) : pageWith(2)) });
    const events = await readEvents(new URL('events', server.url).href, (e) => e.length > 0);
    expect(events[0]).toContain('job-1');
    fail = true;
    const failed = await fetch(server.url);
    expect(failed.status).toBe(503);
    expect(await failed.text()).toContain('could not be built (store gone)');
    fail = false;
    expect((await fetch(server.url)).status).toBe(200);

    await expect(
      startDashboardServer({
        settings: { host: '127.0.0.1', port: server.port, token: null, refreshMs: 1000 },
        page: async () => pageWith(0),
        metrics: createMetricsRegistry({ defaultMetrics: false }),
        logger: silentLogger(),
        clock: new SystemClock(),
      }),
    ).rejects.toMatchObject({ code: 'HORDE_DASHBOARD_LISTEN_FAILED', message: expect.stringContaining(`127.0.0.1:${server.port}`) });
    await expect(
      startDashboardServer({
        settings: { host: '0.0.0.0', port: 0, token: null, refreshMs: 1000 },
        page: async () => pageWith(0),
        metrics: createMetricsRegistry({ defaultMetrics: false }),
        logger: silentLogger(),
        clock: new SystemClock(),
      }),
    ).rejects.toBeInstanceOf(DashboardListenError);
  });
});

describe('dashboard config', () => {
  it('is off by default, on loopback, and refuses an exposed dashboard without a token', () => {
    expect(hordeConfigSchema.parse({}).dashboard).toEqual({ enabled: false, host: '127.0.0.1', port: 9180, token: null, refreshMs: 1000 });
    const exposed = hordeConfigSchema.safeParse({ dashboard: { enabled: true, host: '0.0.0.0' } });
    expect(exposed.success).toBe(false);
    expect(exposed.error!.issues[0]).toMatchObject({
      path: ['dashboard', 'token'],
      message: expect.stringContaining('required when dashboard.host is not loopback'),
    });
    expect(hordeConfigSchema.safeParse({ dashboard: { enabled: true, host: '0.0.0.0', token: 'short' } }).success).toBe(false);
    expect(
      hordeConfigSchema.safeParse({ dashboard: { enabled: true, host: '0.0.0.0', token: 'a-long-enough-secret-token' } }).success,
    ).toBe(true);
  });
});
