import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock, Logger } from '../contracts/index.js';
import type { FacilitatorSection } from '../config/sections/facilitator.js';
import { verifySignature } from '../keys/verify.js';
import type { ValidatorDirectory } from '../chain/validator-directory.js';
import { signatureFromHeaders, verifyCheatReport, verifyJobCreation, type SdkSignature } from '../protocol/sdk-signature.js';
import { ApiError } from './errors.js';
import { JOB_END_STATUSES } from '../protocol/enums.js';
import type { JobUpdateSignal } from './job-updates.js';
import {
  assertValidatorWillVerify,
  cheatReportBodySchema,
  createJobBodySchema,
  displayStatus,
  jobRequestFor,
  jobResponse,
  statusEntryResponse,
} from './job-model.js';
import type { FacilitatorStore } from './store.js';
import { issueNonce, nonceExpiry } from './nonces.js';
import { RateLimiter } from './rate-limit.js';
import { issueToken, verifyToken } from './tokens.js';
import type { ValidatorHub } from './validator-hub.js';

export interface HttpApiDeps {
  readonly settings: FacilitatorSection;
  readonly store: FacilitatorStore;
  readonly hub: ValidatorHub;
  readonly directory: ValidatorDirectory;
  readonly tokenSecret: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Wakes `/updates/` requests when a status update of their job is stored. */
  readonly updates: JobUpdateSignal;
}

/** `/updates/`: the longest a request may wait for news, and how often a waiting one re-reads the store regardless. */
const UPDATES_MAX_WAIT_SECONDS = 30;
const UPDATES_RECHECK_MS = 1_000;

const loginBodySchema = z.object({ hotkey: z.string().min(1), signature: z.string().min(1), nonce: z.string().min(1) });
const updatesQuerySchema = z.object({
  after: z.coerce.number().int().nonnegative().default(0),
  wait: z.coerce.number().nonnegative().max(UPDATES_MAX_WAIT_SECONDS).default(20),
});
const jobsQuerySchema = z.object({
  page: z.coerce.number().int().positive().default(1),
  page_size: z.coerce.number().int().positive().default(10),
});

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues
    .slice(0, 5)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
  throw new ApiError('BAD_REQUEST', `Invalid ${what}: ${issues}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The clients' HTTP API, the shapes ComputeHorde's SDK speaks:
 * - `GET /api/v1/auth/nonce` → `{nonce}`; `POST /api/v1/auth/login {hotkey, signature, nonce}` →
 *   `{token}` (the hotkey signs the nonce's UTF-8 bytes; whitelisted hotkeys only);
 * - `POST /api/v1/job-docker/` (bearer token + X-CH signature over the SignedFields) → the job, 201;
 * - `GET /api/v1/jobs/{uuid}/`, `GET /api/v1/jobs/?page&page_size` → `{count, next, previous, results}`;
 * - `POST /api/v1/jobs/{uuid}/cheated/ {job_uuid, trusted_job_uuid, details}` (X-CH FullRequest) → 201.
 * Errors are `{detail, code}` with the HTTP status of the code; an expired token says
 * `Token expired` (the SDK re-authenticates on that text).
 */
export function registerHttpApi(app: FastifyInstance, deps: HttpApiDeps): void {
  const guards = new RequestGuards(deps);
  registerErrorHandler(app, guards.log);
  registerAuthRoutes(app, deps, guards);
  registerJobRoutes(app, deps, guards);
  registerCheatReportRoute(app, deps, guards);
  app.get('/healthz', async () => ({ status: 'ok', validators: deps.hub.validators() }));
}

/** Errors are `{detail, code}`: an `ApiError` with its status, fastify's own 4xx, else a logged 500. */
function registerErrorHandler(app: FastifyInstance, log: Logger): void {
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (err instanceof ApiError) return reply.code(err.statusCode).send({ detail: err.message, code: err.code });
    const status = err.statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST';
      return reply.code(status).send({ detail: err.message, code });
    }
    log.error({ err, url: request.url }, 'request failed');
    return reply.code(500).send({ detail: 'Internal server error', code: 'INTERNAL' });
  });
}

/** The checks the routes share: who is asking, what they signed, how often, and whether before. */
class RequestGuards {
  readonly log: Logger;
  /** The endpoints anyone may call are rate-limited per remote address (the socket's, not a header). */
  private readonly limiter: RateLimiter;

  constructor(private readonly deps: HttpApiDeps) {
    this.log = deps.logger.child({ component: 'http-api' });
    this.limiter = new RateLimiter(deps.settings.unauthenticatedRateLimit, () => deps.clock.now());
  }

  whitelisted(hotkey: string): boolean {
    const { hotkeyWhitelist } = this.deps.settings;
    return hotkeyWhitelist.includes('*') || hotkeyWhitelist.includes(hotkey);
  }

  /** The hotkey of the bearer token, or throws 401/403. */
  authenticate(request: FastifyRequest): string {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw new ApiError('UNAUTHORIZED', 'Authentication credentials were not provided (Authorization: Bearer <token>).');
    const check = verifyToken(this.deps.tokenSecret, match[1]!, this.deps.clock.now());
    if (!check.ok)
      throw check.reason === 'expired' ? new ApiError('TOKEN_EXPIRED', 'Token expired') : new ApiError('UNAUTHORIZED', 'Invalid token');
    if (!this.whitelisted(check.claims.sub))
      throw new ApiError('FORBIDDEN', `Hotkey ${check.claims.sub} is not allowed to use this facilitator`);
    return check.claims.sub;
  }

  /** The X-CH signature of a request, checked for age and signer (not yet for content). */
  requestSignature(request: FastifyRequest, hotkey: string, scope: SdkSignature['signature_scope']): SdkSignature {
    const { settings, clock } = this.deps;
    const found = signatureFromHeaders(request.headers);
    if (!found.ok) throw new ApiError('INVALID_SIGNATURE', found.error.message);
    const signature = found.signature;
    if (signature.signature_scope !== scope) throw new ApiError('INVALID_SIGNATURE', `X-CH-Signature-Scope must be ${scope}`);
    const nowNs = BigInt(clock.now()) * 1_000_000n;
    const maxAgeNs = BigInt(settings.signatureMaxAgeSeconds) * 1_000_000_000n;
    if (signature.timestamp_ns < nowNs - maxAgeNs || signature.timestamp_ns > nowNs + maxAgeNs) {
      throw new ApiError(
        'INVALID_SIGNATURE',
        `Signature timestamp is more than ${settings.signatureMaxAgeSeconds} s away from the facilitator's clock`,
      );
    }
    if (signature.signatory !== hotkey)
      throw new ApiError('FORBIDDEN', `The request is signed by ${signature.signatory}, not by the logged-in hotkey ${hotkey}`);
    return signature;
  }

  rateLimit(request: FastifyRequest, reply: { header(name: string, value: string): unknown }): void {
    const address = request.socket.remoteAddress ?? 'unknown';
    const retryAfter = this.limiter.take(address);
    if (retryAfter === 0) return;
    this.log.warn({ remoteAddress: address, url: request.url }, 'rate limit exceeded');
    reply.header('retry-after', String(retryAfter));
    throw new ApiError('RATE_LIMITED', `Too many requests from ${address}; retry in ${retryAfter} s`);
  }

  /** Refuses a signed request seen before within its signature window (an exact replay). */
  async refuseReplay(signature: SdkSignature): Promise<void> {
    const { settings, store, clock } = this.deps;
    const expiresAt = Number(signature.timestamp_ns / 1_000_000n) + settings.signatureMaxAgeSeconds * 1000;
    if (!(await store.useOnce(`signature:${signature.signature}`, expiresAt, clock.now()))) {
      this.log.warn({ signatory: signature.signatory }, 'replayed signed request refused');
      throw new ApiError('CONFLICT', 'This signed request was already accepted; sign each request anew');
    }
  }
}

/** `GET /api/v1/auth/nonce`, `POST /api/v1/auth/login`. */
function registerAuthRoutes(app: FastifyInstance, deps: HttpApiDeps, guards: RequestGuards): void {
  const { settings, store, clock } = deps;
  const log = guards.log;
  app.get('/api/v1/auth/nonce', async (request, reply) => {
    guards.rateLimit(request, reply);
    return { nonce: issueNonce(deps.tokenSecret, clock.now(), settings.nonceLifetimeSeconds) };
  });

  app.post('/api/v1/auth/login', async (request, reply) => {
    guards.rateLimit(request, reply);
    const body = parse(loginBodySchema, request.body, 'login');
    if (!guards.whitelisted(body.hotkey)) {
      log.warn({ hotkey: body.hotkey }, 'login refused: hotkey not whitelisted');
      throw new ApiError('FORBIDDEN', `Hotkey ${body.hotkey} is not allowed to use this facilitator`);
    }
    if (!(await verifySignature(body.nonce, body.signature, body.hotkey))) {
      log.warn({ hotkey: body.hotkey }, 'login refused: bad signature');
      throw new ApiError('INVALID_SIGNATURE', 'Invalid signature of the nonce');
    }
    const expiresAt = nonceExpiry(deps.tokenSecret, body.nonce, clock.now());
    if (expiresAt === null || !(await store.useOnce(`nonce:${body.nonce}`, expiresAt, clock.now()))) {
      throw new ApiError('UNAUTHORIZED', 'Invalid or expired nonce');
    }
    const { token } = issueToken(deps.tokenSecret, body.hotkey, clock.now(), settings.tokenLifetimeSeconds);
    log.info({ hotkey: body.hotkey }, 'client logged in');
    return { token };
  });
}

/** `POST /api/v1/job-docker/`, `GET /api/v1/jobs/{uuid}/`, `GET /api/v1/jobs/`. */
function registerJobRoutes(app: FastifyInstance, deps: HttpApiDeps, guards: RequestGuards): void {
  const { settings, store, hub, directory, clock } = deps;
  const log = guards.log;
  app.post('/api/v1/job-docker/', async (request, reply) => {
    const hotkey = guards.authenticate(request);
    const signature = guards.requestSignature(request, hotkey, 'SignedFields');
    if (!isObject(request.body)) throw new ApiError('BAD_REQUEST', 'The body must be a JSON object');
    const rawBody = request.body;
    const body = parse(createJobBodySchema, rawBody, 'job');
    const verified = await verifyJobCreation(rawBody, signature);
    if (!verified.ok) throw new ApiError('INVALID_SIGNATURE', verified.error.message);
    if ((await directory.status(body.target_validator_hotkey)) !== 'active') {
      throw new ApiError('BAD_REQUEST', `target_validator_hotkey ${body.target_validator_hotkey} is not an active validator of the subnet`);
    }
    const uuid = randomUUID();
    assertValidatorWillVerify(rawBody, jobRequestFor(uuid, body, signature));
    // Last of the checks: a request refused for another reason may be sent again as it was.
    await guards.refuseReplay(signature);
    const now = clock.now();
    await store.createJob({ uuid, userHotkey: hotkey, body, signature, createdAt: now });
    log.info({ jobUuid: uuid, hotkey, validatorHotkey: body.target_validator_hotkey, executorClass: body.executor_class }, 'job created');
    await hub.jobCreated(uuid, body.target_validator_hotkey);
    const job = (await store.job(uuid))!;
    return reply.code(201).send(jobResponse(job, await store.history(uuid)));
  });

  app.get<{ Params: { uuid: string } }>('/api/v1/jobs/:uuid/', async (request) => {
    const hotkey = guards.authenticate(request);
    const job = await store.job(request.params.uuid);
    if (!job || job.userHotkey !== hotkey) throw new ApiError('NOT_FOUND', 'Not found.');
    return jobResponse(job, await store.history(job.uuid));
  });

  // Long poll: the job's status updates numbered past `after`, as soon as there is one (or the job
  // has ended, or `wait` seconds passed). Any worker answers: the updates are read from the store.
  app.get<{ Params: { uuid: string } }>('/api/v1/jobs/:uuid/updates/', async (request, reply) => {
    const hotkey = guards.authenticate(request);
    const query = parse(updatesQuerySchema, request.query, 'query');
    const uuid = request.params.uuid;
    const owned = await store.job(uuid);
    if (!owned || owned.userHotkey !== hotkey) throw new ApiError('NOT_FOUND', 'Not found.');
    const gone = new AbortController();
    reply.raw.once('close', () => gone.abort());
    const until = Date.now() + query.wait * 1000;
    for (;;) {
      // The job first, then its history: an end seen in the job is then in the history read after
      // it (one transaction writes both), so a client told "ended, nothing new" missed nothing.
      const job = await store.job(uuid);
      const history = await store.history(uuid);
      const news = history.filter((entry) => (entry.seq ?? 0) > query.after);
      const left = until - Date.now();
      if (news.length > 0 || JOB_END_STATUSES.has(job!.status) || left <= 0 || gone.signal.aborted) {
        return { uuid, status: displayStatus(job!.status), updates: news.map(statusEntryResponse) };
      }
      await deps.updates.wait(uuid, Math.min(left, UPDATES_RECHECK_MS), gone.signal);
    }
  });

  app.get('/api/v1/jobs/', async (request) => {
    const hotkey = guards.authenticate(request);
    const query = parse(jobsQuerySchema, request.query, 'query');
    const pageSize = Math.min(query.page_size, settings.maxPageSize);
    const { count, jobs } = await store.jobsOf(hotkey, query.page, pageSize);
    // As Django REST framework's pagination: a page past the end does not exist (page 1 always does).
    if (jobs.length === 0 && query.page > 1) throw new ApiError('NOT_FOUND', 'Invalid page.');
    const histories = await store.history(jobs.map((job) => job.uuid));
    const base = `${request.protocol}://${request.host}/api/v1/jobs/`;
    const link = (page: number) => `${base}?page=${page}&page_size=${pageSize}`;
    return {
      count,
      next: query.page * pageSize < count ? link(query.page + 1) : null,
      previous: query.page > 1 ? link(query.page - 1) : null,
      results: jobs.map((job) => jobResponse(job, histories.get(job.uuid) ?? [])),
    };
  });
}

/** `POST /api/v1/jobs/{uuid}/cheated/`: a client reports a job the trusted miner answered otherwise. */
function registerCheatReportRoute(app: FastifyInstance, deps: HttpApiDeps, guards: RequestGuards): void {
  const { store, hub, clock } = deps;
  const log = guards.log;
  app.post<{ Params: { uuid: string } }>('/api/v1/jobs/:uuid/cheated/', async (request, reply) => {
    const hotkey = guards.authenticate(request);
    const signature = guards.requestSignature(request, hotkey, 'FullRequest');
    const body = parse(cheatReportBodySchema, request.body, 'cheat report');
    if (body.job_uuid !== request.params.uuid) throw new ApiError('BAD_REQUEST', 'job_uuid in the body is not the job of the URL');
    const verified = await verifyCheatReport(body, signature);
    if (!verified.ok) throw new ApiError('INVALID_SIGNATURE', verified.error.message);

    const [job, trusted] = await Promise.all([store.job(body.job_uuid), store.job(body.trusted_job_uuid)]);
    if (!job || job.userHotkey !== hotkey) throw new ApiError('NOT_FOUND', `No job ${body.job_uuid}`);
    if (!trusted || trusted.userHotkey !== hotkey) throw new ApiError('NOT_FOUND', `No job ${body.trusted_job_uuid}`);
    if (job.body.on_trusted_miner) throw new ApiError('BAD_REQUEST', 'A job run on the trusted miner cannot be reported as cheated');
    if (!trusted.body.on_trusted_miner) throw new ApiError('BAD_REQUEST', 'trusted_job_uuid must be a job run with on_trusted_miner');
    if (job.status !== 'completed' || trusted.status !== 'completed') throw new ApiError('CONFLICT', 'Both jobs must have completed');
    if (job.targetValidatorHotkey !== trusted.targetValidatorHotkey)
      throw new ApiError('BAD_REQUEST', 'Both jobs must have gone to the same validator');

    const report = {
      jobUuid: body.job_uuid,
      trustedJobUuid: body.trusted_job_uuid,
      reporterHotkey: hotkey,
      validatorHotkey: job.targetValidatorHotkey,
      details: body.details,
      signature,
      createdAt: clock.now(),
    };
    if (!(await store.addCheatReport(report))) throw new ApiError('CONFLICT', `Job ${body.job_uuid} was already reported as cheated`);
    log.info(
      { jobUuid: body.job_uuid, trustedJobUuid: body.trusted_job_uuid, hotkey, validatorHotkey: job.targetValidatorHotkey },
      'cheat reported',
    );
    await hub.cheatReported({ ...report, dispatchedAt: null });
    return reply.code(201).send({ job_uuid: body.job_uuid, trusted_job_uuid: body.trusted_job_uuid, status: 'reported' });
  });
}
