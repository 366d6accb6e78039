/**
 * A fake vast.ai marketplace for tests: a real HTTP server on 127.0.0.1 that follows the API the
 * vast CLI (`vast-ai/vast-cli`, vast.py) uses — same paths, methods, bodies and response shapes:
 *
 *   POST   /api/v0/bundles/                  query object → { offers: [...] } (filters, order, limit applied)
 *   PUT    /api/v0/asks/{offer_id}/          create body  → { success: true, new_contract: id } | 400 { success: false, error, msg }
 *   GET    /api/v0/instances/{id}/?owner=me               → { instances: {...} } | { instances: null }
 *   DELETE /api/v0/instances/{id}/                        → { success: true } | { success: false, msg }
 *
 * Every request must carry `Authorization: Bearer <apiKey>` (else 401). Calls are recorded. A rented
 * instance reports `loading` for `readyAfterPolls` status reads, then `running` with `ssh_host` /
 * `ssh_port` pointing at a real sshd, so the agent really runs over SSH.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeOffer {
  readonly id: number;
  readonly machine_id: number;
  readonly gpu_name: string;
  readonly num_gpus: number;
  /** MB per GPU. */
  readonly gpu_ram: number;
  readonly dph_total: number;
  readonly reliability2: number;
  readonly verified: boolean;
  readonly external: boolean;
  readonly rentable: boolean;
  rented: boolean;
}

export interface FakeInstance {
  readonly id: number;
  readonly offer: FakeOffer;
  readonly createBody: Record<string, unknown>;
  statusReads: number;
  destroyed: boolean;
}

export interface RecordedCall {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly body: unknown;
  readonly authorization: string | undefined;
}

export interface FakeVastOptions {
  readonly apiKey: string;
  readonly offers: readonly Omit<FakeOffer, 'rented'>[];
  /** Where rented instances' sshd listens. */
  readonly ssh: { readonly host: string; readonly port: number };
}

const OPERATORS: Record<string, (actual: unknown, expected: unknown) => boolean> = {
  eq: (a, e) => a === e,
  neq: (a, e) => a !== e,
  gt: (a, e) => typeof a === 'number' && typeof e === 'number' && a > e,
  gte: (a, e) => typeof a === 'number' && typeof e === 'number' && a >= e,
  lt: (a, e) => typeof a === 'number' && typeof e === 'number' && a < e,
  lte: (a, e) => typeof a === 'number' && typeof e === 'number' && a <= e,
  in: (a, e) => Array.isArray(e) && e.includes(a),
  notin: (a, e) => Array.isArray(e) && !e.includes(a),
};
/** Keys of a search body that are not field filters. */
const QUERY_KEYS = new Set(['order', 'type', 'limit', 'allocated_storage']);

export class FakeVastServer {
  readonly calls: RecordedCall[] = [];
  readonly instances = new Map<number, FakeInstance>();
  readonly offers: FakeOffer[];
  /** Status reads an instance answers `loading` before it runs. */
  readyAfterPolls = 2;
  /** Instances never leave `loading`. */
  neverReady = false;
  /** What `ssh_host`/`ssh_port` (vast's SSH proxy) report; default the real sshd. `public_ipaddr` and `ports` always point at the sshd. */
  proxy: { host: string; port: number } | null = null;
  /** Offers whose rent is refused as if someone else had just taken them. */
  readonly takenMeanwhile = new Set<number>();
  private rateLimited = 0;
  private destroyFailures = 0;
  private nextInstanceId = 7_835_610;
  private server: Server | null = null;

  constructor(private readonly options: FakeVastOptions) {
    this.offers = options.offers.map((offer) => ({ ...offer, rented: false }));
  }

  /** The next `count` destroy requests fail with HTTP 500 (the instance stays rented). */
  failDestroyNext(count: number): void {
    this.destroyFailures = count;
  }

  /** The next `count` requests are answered 429. */
  rateLimitNext(count: number): void {
    this.rateLimited = count;
  }

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) =>
        send(response, 500, { success: false, error: 'server_error', msg: String(error) }),
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Instances rented and not destroyed. */
  live(): FakeInstance[] {
    return [...this.instances.values()].filter((instance) => !instance.destroyed);
  }

  callsTo(method: string, pathPrefix: string): RecordedCall[] {
    return this.calls.filter((call) => call.method === method && call.path.startsWith(pathPrefix));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const raw = await readBody(request);
    let body: unknown = undefined;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw) as unknown;
      } catch {
        return send(response, 400, { success: false, error: 'invalid_json', msg: 'body is not JSON' });
      }
    }
    this.calls.push({
      method: request.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body,
      authorization: request.headers.authorization,
    });
    if (request.headers.authorization !== `Bearer ${this.options.apiKey}`) {
      return send(response, 401, { success: false, error: 'invalid_user_key', msg: 'Invalid user key' });
    }
    if (this.rateLimited > 0) {
      this.rateLimited -= 1;
      return send(response, 429, { success: false, error: 'too_many_requests', msg: 'API requests too frequent' });
    }

    let match: RegExpExecArray | null;
    if (request.method === 'POST' && url.pathname === '/api/v0/bundles/') return this.search(body, response);
    if (request.method === 'PUT' && (match = /^\/api\/v0\/asks\/(\d+)\/$/.exec(url.pathname)))
      return this.rent(Number(match[1]), body, response);
    if (request.method === 'GET' && (match = /^\/api\/v0\/instances\/(\d+)\/$/.exec(url.pathname))) {
      if (url.searchParams.get('owner') !== 'me')
        return send(response, 400, { success: false, error: 'invalid_args', msg: 'owner=me required' });
      return this.show(Number(match[1]), response);
    }
    if (request.method === 'DELETE' && (match = /^\/api\/v0\/instances\/(\d+)\/$/.exec(url.pathname)))
      return this.destroy(Number(match[1]), response);
    return send(response, 404, { success: false, error: 'not_found', msg: `no route ${request.method} ${url.pathname}` });
  }

  private search(body: unknown, response: ServerResponse): void {
    if (!isRecord(body)) return send(response, 400, { success: false, error: 'invalid_args', msg: 'query object required' });
    let offers = this.offers.filter((offer) =>
      Object.entries(body)
        .filter(([key]) => !QUERY_KEYS.has(key))
        .every(([field, ops]) => {
          if (!isRecord(ops)) return false;
          const actual = (offer as unknown as Record<string, unknown>)[field];
          return Object.entries(ops).every(([op, expected]) => OPERATORS[op]?.(actual, expected) ?? false);
        }),
    );
    if (Array.isArray(body.order)) {
      for (const [field, direction] of [...(body.order as [string, string][])].reverse()) {
        offers = [...offers].sort((a, b) => {
          const x = (a as unknown as Record<string, number>)[field]!;
          const y = (b as unknown as Record<string, number>)[field]!;
          return direction === 'desc' ? y - x : x - y;
        });
      }
    }
    if (typeof body.limit === 'number') offers = offers.slice(0, body.limit);
    send(response, 200, { offers });
  }

  private rent(offerId: number, body: unknown, response: ServerResponse): void {
    if (
      !isRecord(body) ||
      body.client_id !== 'me' ||
      typeof body.image !== 'string' ||
      body.image === '' ||
      typeof body.disk !== 'number'
    ) {
      return send(response, 400, { success: false, error: 'invalid_args', msg: 'client_id "me", image and disk are required' });
    }
    const offer = this.offers.find((o) => o.id === offerId);
    if (!offer || offer.rented || !offer.rentable || this.takenMeanwhile.has(offerId)) {
      return send(response, 400, { success: false, error: 'no_such_ask', msg: `Instance type ${offerId} is no longer available.` });
    }
    offer.rented = true;
    const id = this.nextInstanceId++;
    this.instances.set(id, { id, offer, createBody: body, statusReads: 0, destroyed: false });
    send(response, 200, { success: true, new_contract: id });
  }

  private show(id: number, response: ServerResponse): void {
    const instance = this.instances.get(id);
    if (!instance || instance.destroyed) return send(response, 200, { instances: null });
    instance.statusReads += 1;
    const running = !this.neverReady && instance.statusReads > this.readyAfterPolls;
    const { host, port } = this.options.ssh;
    const proxy = this.proxy ?? this.options.ssh;
    send(response, 200, {
      instances: {
        id,
        machine_id: instance.offer.machine_id,
        label: instance.createBody.label ?? null,
        image_uuid: instance.createBody.image,
        gpu_name: instance.offer.gpu_name,
        num_gpus: instance.offer.num_gpus,
        dph_total: instance.offer.dph_total,
        start_date: Date.now() / 1000,
        extra_env: [],
        intended_status: 'running',
        cur_state: 'running',
        actual_status: running ? 'running' : 'loading',
        status_msg: running ? 'success, running' : 'Pulling image',
        ssh_host: running ? proxy.host : null,
        ssh_port: running ? proxy.port : null,
        public_ipaddr: host,
        ports: running ? { '22/tcp': [{ HostIp: '0.0.0.0', HostPort: String(port) }] } : {},
      },
    });
  }

  private destroy(id: number, response: ServerResponse): void {
    const instance = this.instances.get(id);
    if (!instance || instance.destroyed)
      return send(response, 200, { success: false, error: 'no_such_instance', msg: `Instance ${id} not found.` });
    if (this.destroyFailures > 0) {
      this.destroyFailures -= 1;
      return send(response, 500, { success: false, error: 'server_error', msg: 'Internal error, please retry.' });
    }
    instance.destroyed = true;
    instance.offer.rented = false;
    send(response, 200, { success: true });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify(body));
}
