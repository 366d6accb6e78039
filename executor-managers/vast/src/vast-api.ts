import { z, type Logger } from '@horde/core';
import { VastApiError, VastAuthError, VastRateLimitedError } from './errors.js';

/**
 * The part of the vast.ai marketplace API this manager uses (as `vast-ai/vast-cli` calls it):
 *
 *   search offers   POST   /api/v0/bundles/                 body: query object      → { offers: [...] }
 *   rent an offer   PUT    /api/v0/asks/{offer_id}/         body: create request    → { success, new_contract }
 *   show instance   GET    /api/v0/instances/{id}/?owner=me                         → { instances: {...} | null }
 *   destroy         DELETE /api/v0/instances/{id}/                                  → { success, msg? }
 *
 * Every request carries `Authorization: Bearer <api key>`. Kept behind an interface so a manager can
 * be tested against a recorded or fake marketplace.
 */
export interface VastApi {
  searchOffers(query: OfferQuery): Promise<VastOffer[]>;
  /** Rents `offerId`; resolves with the new instance id. */
  createInstance(offerId: number, request: CreateInstanceRequest): Promise<number>;
  /** The instance, or null when the account has no such instance (any more). */
  showInstance(instanceId: number): Promise<VastInstance | null>;
  destroyInstance(instanceId: number): Promise<void>;
}

export type FilterOperator = 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'notin';

/** A search: per-field operator maps (`{ gpu_name: { eq: 'RTX 4090' } }`), order, offer type. */
export interface OfferQuery {
  readonly filters: Readonly<Record<string, Readonly<Partial<Record<FilterOperator, unknown>>>>>;
  readonly order: readonly (readonly [field: string, direction: 'asc' | 'desc'])[];
  readonly type: 'on-demand' | 'bid' | 'reserved';
  readonly limit?: number;
  /** Disk (GB) the rental will allocate, so prices include storage. */
  readonly allocatedStorage?: number;
}

/** The create-instance body (`vastai create instance`), the fields this manager sets. */
export interface CreateInstanceRequest {
  readonly client_id: 'me';
  readonly image: string;
  /** GB of local disk. */
  readonly disk: number;
  readonly label: string;
  /** `ssh` (proxy) or `ssh_direc ssh_proxy` (direct port as well). */
  readonly runtype: string;
  /** Shell script the instance runs at start; null for none. */
  readonly onstart: string | null;
  /** Container environment (docker `-e`). */
  readonly env: Readonly<Record<string, string>>;
  /** Bid in $/h for interruptible instances; null = on-demand. */
  readonly price: number | null;
  /** Fail instead of creating a stopped instance when the machine cannot start it now. */
  readonly cancel_unavail: boolean;
}

const numberLike = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]);

export const vastOfferSchema = z.looseObject({
  id: z.number().int(),
  /** $/hour, all included. */
  dph_total: z.number(),
  gpu_name: z.string().nullish(),
  num_gpus: z.number().nullish(),
  /** Per-GPU memory in MB. */
  gpu_ram: z.number().nullish(),
  reliability2: z.number().nullish(),
  machine_id: z.number().nullish(),
});
export type VastOffer = z.output<typeof vastOfferSchema>;

export const vastInstanceSchema = z.looseObject({
  id: z.number().int(),
  /** `loading`, `running`, `exited`, … */
  actual_status: z.string().nullish(),
  intended_status: z.string().nullish(),
  status_msg: z.string().nullish(),
  /** SSH through vast's proxy. */
  ssh_host: z.string().nullish(),
  ssh_port: numberLike.nullish(),
  /** Direct SSH: this address and the host port mapped to 22/tcp. */
  public_ipaddr: z.string().nullish(),
  ports: z.record(z.string(), z.array(z.looseObject({ HostIp: z.string().nullish(), HostPort: numberLike })).nullish()).nullish(),
  label: z.string().nullish(),
  dph_total: z.number().nullish(),
});
export type VastInstance = z.output<typeof vastInstanceSchema>;

const searchResponse = z.looseObject({ offers: z.array(vastOfferSchema) });
const createResponse = z.looseObject({ success: z.literal(true), new_contract: z.number().int() });
const showResponse = z.looseObject({ instances: vastInstanceSchema.nullable() });
const destroyResponse = z.looseObject({ success: z.literal(true) });

export interface VastClientOptions {
  /** Base URL, e.g. https://console.vast.ai. */
  readonly apiUrl: string;
  readonly apiKey: string;
  /** Milliseconds one HTTP request may take. */
  readonly requestTimeoutMs: number;
  /** Retries after HTTP 429 (and 5xx on requests that are safe to repeat). */
  readonly maxRetries: number;
  /** First backoff in milliseconds; doubles each retry (a `Retry-After` header wins). */
  readonly retryBaseMs: number;
  readonly logger: Logger;
}

interface RequestSpec<T> {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly body?: unknown;
  readonly schema: z.ZodType<T>;
  /** A 5xx may be retried (the request changes nothing or is idempotent). Renting is not. */
  readonly idempotent: boolean;
  /** What the request does, for messages. */
  readonly action: string;
}

/** `VastApi` over HTTPS with fetch; every response is checked with a zod schema before use. */
export class VastClient implements VastApi {
  private readonly base: string;

  constructor(private readonly options: VastClientOptions) {
    this.base = options.apiUrl.replace(/\/+$/, '');
  }

  async searchOffers(query: OfferQuery): Promise<VastOffer[]> {
    const body = {
      ...query.filters,
      order: query.order,
      type: query.type,
      ...(query.limit !== undefined ? { limit: query.limit } : {}),
      ...(query.allocatedStorage !== undefined ? { allocated_storage: query.allocatedStorage } : {}),
    };
    const response = await this.request({
      method: 'POST',
      path: '/api/v0/bundles/',
      body,
      schema: searchResponse,
      idempotent: true,
      action: 'searching offers',
    });
    return response.offers;
  }

  async createInstance(offerId: number, request: CreateInstanceRequest): Promise<number> {
    const response = await this.request({
      method: 'PUT',
      path: `/api/v0/asks/${offerId}/`,
      body: request,
      schema: createResponse,
      idempotent: false,
      action: `renting offer ${offerId}`,
    });
    return response.new_contract;
  }

  async showInstance(instanceId: number): Promise<VastInstance | null> {
    const response = await this.request({
      method: 'GET',
      path: `/api/v0/instances/${instanceId}/?owner=me`,
      schema: showResponse,
      idempotent: true,
      action: `reading instance ${instanceId}`,
    });
    return response.instances;
  }

  async destroyInstance(instanceId: number): Promise<void> {
    await this.request({
      method: 'DELETE',
      path: `/api/v0/instances/${instanceId}/`,
      body: {},
      schema: destroyResponse,
      idempotent: true,
      action: `destroying instance ${instanceId}`,
    });
  }

  private async request<T>(spec: RequestSpec<T>): Promise<T> {
    const { logger, maxRetries } = this.options;
    for (let attempt = 0; ; attempt += 1) {
      let response: Response;
      try {
        response = await fetch(this.base + spec.path, {
          method: spec.method,
          headers: {
            Authorization: `Bearer ${this.options.apiKey}`,
            Accept: 'application/json',
            ...(spec.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
          },
          ...(spec.body !== undefined ? { body: JSON.stringify(spec.body) } : {}),
          signal: AbortSignal.timeout(this.options.requestTimeoutMs),
        });
      } catch (error) {
        // No answer: the request may or may not have been applied, so only idempotent ones repeat.
        if (spec.idempotent && attempt < maxRetries) {
          await this.backoff(attempt, null, spec, `no answer (${(error as Error).message})`);
          continue;
        }
        throw new VastApiError(`${spec.action}: no answer from ${this.base} (${(error as Error).message})`, null, { cause: error });
      }

      const text = await response.text();
      const json = parseJson(text);
      const detail = errorDetail(json, text);
      if (response.status === 401 || response.status === 403) {
        throw new VastAuthError(
          `${spec.action}: the marketplace refused the API key (HTTP ${response.status}${detail ? `: ${detail}` : ''}). Check apiKey in the @horde/executor-manager-vast config.`,
          response.status,
        );
      }
      const retryable = response.status === 429 || (response.status >= 500 && spec.idempotent);
      if (retryable && attempt < maxRetries) {
        await this.backoff(attempt, response.headers.get('retry-after'), spec, `HTTP ${response.status}`);
        continue;
      }
      if (response.status === 429) {
        throw new VastRateLimitedError(`${spec.action}: still rate limited (HTTP 429) after ${maxRetries} retries`);
      }
      if (!response.ok) {
        throw new VastApiError(`${spec.action}: HTTP ${response.status}${detail ? ` (${detail})` : ''}`, response.status);
      }
      if (json === undefined) {
        throw new VastApiError(`${spec.action}: the answer is not JSON: ${text.slice(0, 200)}`, response.status);
      }
      if (isRecord(json) && json.success === false) {
        throw new VastApiError(`${spec.action} failed: ${detail || 'success: false'}`, response.status);
      }
      const parsed = spec.schema.safeParse(json);
      if (!parsed.success) {
        logger.error({ action: spec.action, issues: parsed.error.issues }, 'unexpected vast API response');
        throw new VastApiError(`${spec.action}: unexpected answer (${parsed.error.issues[0]?.message ?? 'invalid'})`, response.status);
      }
      return parsed.data;
    }
  }

  private async backoff(attempt: number, retryAfter: string | null, spec: RequestSpec<unknown>, why: string): Promise<void> {
    const seconds = retryAfter !== null ? Number(retryAfter) : NaN;
    // A server's Retry-After wins, within reason: a start must not hang for an hour.
    const ms = Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, 60) * 1000 : this.options.retryBaseMs * 2 ** attempt;
    this.options.logger.warn({ action: spec.action, attempt: attempt + 1, delayMs: ms, why }, 'vast API busy; retrying');
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** The API's own explanation (`msg`, `error`), or the start of a non-JSON body. */
function errorDetail(json: unknown, text: string): string {
  if (isRecord(json)) {
    const parts = [json.error, json.msg].filter((part): part is string => typeof part === 'string' && part.length > 0);
    if (parts.length > 0) return parts.join(': ');
  }
  return json === undefined ? text.trim().slice(0, 200) : '';
}
