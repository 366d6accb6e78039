import { z } from 'zod';
import type { Hotkey } from '../keys/index.js';
import { JOB_END_STATUSES, jobStatusSchema, type JobStatus } from '../protocol/enums.js';
import { jobStatusMetadataSchema, type JobStatusMetadata } from '../protocol/facilitator-messages.js';
import type { JsonValue } from '../protocol/python-json.js';
import { signCheatReport, signJobCreation } from '../protocol/sdk-signature.js';
import { backoffDelayMs, sleep } from './backoff.js';
import { generateCertificate, type CertificateAndKey } from '../tls/index.js';
import { HordeClientError, JobNotFoundError, JobTimeoutError, StreamingNotReadyError } from './errors.js';
import { jobRequestBody, type HordeJobSpec } from './job-spec.js';
import { definedFields } from '../object/defined-fields.js';

export const DEFAULT_POLL_INTERVAL_MS = 3_000;
export const DEFAULT_MAX_JOB_ATTEMPTS = 3;
export const DEFAULT_HTTP_ATTEMPTS = 5;

/** The facilitator's job JSON, as far as the SDK reads it (unknown fields are ignored). */
const jobResponseSchema = z.object({
  uuid: z.string(),
  executor_class: z.string(),
  created_at: z.string(),
  status: z.string(),
  docker_image: z.string(),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  stdout: z.string().default(''),
  stderr: z.string().default(''),
  artifacts: z.record(z.string(), z.string()).default({}),
  upload_results: z.record(z.string(), z.string()).default({}),
  streaming_server_cert: z.string().nullish(),
  streaming_server_address: z.string().nullish(),
  streaming_server_port: z.number().int().nullish(),
  status_history: z
    .array(z.object({ status: jobStatusSchema, metadata: jobStatusMetadataSchema.nullish(), created_at: z.string() }))
    .default([]),
});
type JobResponse = z.output<typeof jobResponseSchema>;

const jobsPageSchema = z.object({
  count: z.number().int(),
  next: z.string().nullish(),
  previous: z.string().nullish(),
  results: z.array(jobResponseSchema),
});

/** The facilitator's display names (ComputeHorde's `ComputeHordeJobStatus`) back to protocol statuses. */
const FROM_DISPLAY: Record<string, JobStatus> = {
  Sent: 'sent',
  Received: 'received',
  Accepted: 'accepted',
  'Executor Ready': 'executor_ready',
  'Streaming Ready': 'streaming_ready',
  'Volumes Ready': 'volumes_ready',
  'Execution Done': 'execution_done',
  Completed: 'completed',
  Rejected: 'rejected',
  Failed: 'failed',
};

export interface UploadResult {
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface HordeJobResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Artifact path → file contents. */
  readonly artifacts: Record<string, Buffer>;
  /** Uploaded file path (under `/output/`) → the upload's HTTP response, or its raw text when it is not that shape. */
  readonly uploadResults: Record<string, UploadResult | string>;
}

export interface StatusChange {
  readonly status: JobStatus;
  readonly metadata: JobStatusMetadata | null;
  readonly createdAt: Date;
}

/** A streaming job's server, as the miner signed it and the facilitator stored it. */
export interface StreamingServer {
  readonly address: string;
  readonly port: number;
  /** The executor's server certificate (PEM): trust exactly this one. */
  readonly certPem: string;
}

/** Options for `https.request` / `tls.connect` that make the mutually authenticated connection. */
export interface StreamingTlsOptions {
  readonly host: string;
  readonly port: number;
  /** The server's certificate as the only trusted CA (it is self-signed for its address). */
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export interface WaitOptions {
  /** Give up (JobTimeoutError) after this many ms; default: wait as long as it takes. */
  readonly timeoutMs?: number;
  readonly pollIntervalMs?: number;
  /** Called when the status changes. */
  readonly onStatus?: (job: HordeJob) => void;
  readonly signal?: AbortSignal;
}

const uploadResultSchema = z.object({ headers: z.record(z.string(), z.string()), body: z.string() });

function parseUploadResult(raw: string): UploadResult | string {
  try {
    const parsed = uploadResultSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : raw;
  } catch {
    return raw;
  }
}

/** A job on the horde, as the facilitator last reported it. Made by `HordeClient`; refresh with `refresh()` or `wait()`. */
export class HordeJob {
  uuid!: string;
  executorClass!: string;
  createdAt!: Date;
  /** Protocol status: `sent`, `received`, `accepted`, … `completed`, `failed`, `horde_failed`, `rejected`. */
  status!: JobStatus;
  /** The facilitator's display status (`Sent`, `Completed`, …). */
  displayStatus!: string;
  statusHistory: StatusChange[] = [];
  /** Set once the job ended (the output of a completed job; what a failed one printed). */
  result: HordeJobResult | null = null;
  streamingServer: { cert: string | null; address: string | null; port: number | null } | null = null;
  /** A streaming job made by `createJob`: the client certificate and key sent with it. */
  readonly streamingClient: CertificateAndKey | null;

  /** @internal */
  constructor(
    private readonly client: HordeClient,
    response: JobResponse,
    streamingClient: CertificateAndKey | null = null,
  ) {
    this.streamingClient = streamingClient;
    this.update(response);
  }

  /** @internal */
  update(response: JobResponse): void {
    this.uuid = response.uuid;
    this.executorClass = response.executor_class;
    this.createdAt = new Date(response.created_at);
    this.displayStatus = response.status;
    this.statusHistory = response.status_history.map((entry) => ({
      status: entry.status,
      metadata: entry.metadata ?? null,
      createdAt: new Date(entry.created_at),
    }));
    // The history has the exact protocol status (the display name folds horde_failed into Failed).
    this.status = this.statusHistory.at(-1)?.status ?? FROM_DISPLAY[response.status] ?? 'unknown';
    this.result = this.isFinished
      ? {
          stdout: response.stdout,
          stderr: response.stderr,
          artifacts: Object.fromEntries(Object.entries(response.artifacts).map(([path, b64]) => [path, Buffer.from(b64, 'base64')])),
          uploadResults: Object.fromEntries(
            Object.entries(response.upload_results).map(([path, raw]) => [
              `/output/${path.replace(/^\/output\//, '')}`,
              parseUploadResult(raw),
            ]),
          ),
        }
      : null;
    this.streamingServer =
      response.streaming_server_address || response.streaming_server_cert
        ? {
            cert: response.streaming_server_cert ?? null,
            address: response.streaming_server_address ?? null,
            port: response.streaming_server_port ?? null,
          }
        : null;
  }

  get isFinished(): boolean {
    return JOB_END_STATUSES.has(this.status);
  }

  get isSuccessful(): boolean {
    return this.status === 'completed';
  }

  /** Re-reads the job from the facilitator. */
  async refresh(): Promise<this> {
    this.update(await this.client.fetchJob(this.uuid));
    return this;
  }

  /** The streaming server once the job reported it ready, else null. */
  get streaming(): StreamingServer | null {
    const server = this.streamingServer;
    if (!server?.address || !server.cert || !server.port) return null;
    return { address: server.address, port: server.port, certPem: server.cert };
  }

  /**
   * Polls until a streaming job's server is ready (ComputeHorde's `wait_for_streaming`) and
   * returns where it is. `StreamingNotReadyError` when the job ends first (its status and
   * failure say why), `JobTimeoutError` after `timeoutMs`.
   */
  async waitForStreaming(options: Omit<WaitOptions, 'onStatus'> = {}): Promise<StreamingServer> {
    const started = Date.now();
    const interval = options.pollIntervalMs ?? this.client.pollIntervalMs;
    for (;;) {
      const server = this.streaming;
      if (server && this.statusHistory.some((entry) => entry.status === 'streaming_ready')) return server;
      if (this.isFinished) {
        const failure = this.statusHistory.at(-1)?.metadata;
        const reason =
          failure?.horde_failure_details?.reason ?? failure?.job_failure_details?.reason ?? failure?.job_rejection_details?.reason ?? null;
        throw new StreamingNotReadyError(
          `Job ${this.uuid} ended (${this.status}${reason ? `: ${reason}` : ''}) before its streaming server was ready`,
        );
      }
      if (options.timeoutMs !== undefined && Date.now() - started >= options.timeoutMs) {
        throw new JobTimeoutError(
          `Job ${this.uuid} did not prepare for streaming within ${options.timeoutMs} ms (last status: ${this.status})`,
        );
      }
      const left = options.timeoutMs === undefined ? interval : Math.min(interval, options.timeoutMs - (Date.now() - started));
      await sleep(left, options.signal);
      await this.refresh();
    }
  }

  /** TLS options for connecting to the ready streaming server with this job's client certificate. */
  streamingTlsOptions(): StreamingTlsOptions {
    const server = this.streaming;
    if (!server) throw new StreamingNotReadyError(`Job ${this.uuid} has no streaming server yet (waitForStreaming() first)`);
    if (!this.streamingClient)
      throw new StreamingNotReadyError(`Job ${this.uuid} was not created as a streaming job by this client (no client certificate)`);
    return {
      host: server.address,
      port: server.port,
      ca: server.certPem,
      cert: this.streamingClient.certPem,
      key: this.streamingClient.keyPem,
    };
  }

  /** Polls until the job ends. Throws `JobTimeoutError` after `timeoutMs`. */
  async wait(options: WaitOptions = {}): Promise<this> {
    const started = Date.now();
    const interval = options.pollIntervalMs ?? this.client.pollIntervalMs;
    let seen = this.statusHistory.length;
    while (!this.isFinished) {
      if (options.timeoutMs !== undefined && Date.now() - started >= options.timeoutMs) {
        throw new JobTimeoutError(`Job ${this.uuid} did not end within ${options.timeoutMs} ms (last status: ${this.status})`);
      }
      const left = options.timeoutMs === undefined ? interval : Math.min(interval, options.timeoutMs - (Date.now() - started));
      await sleep(left, options.signal);
      await this.refresh();
      if (this.statusHistory.length !== seen) {
        seen = this.statusHistory.length;
        options.onStatus?.(this);
      }
    }
    return this;
  }
}

export interface HordeClientOptions {
  /** The client's hotkey: logs in and signs every job and cheat report. */
  readonly hotkey: Hotkey;
  /** The validator the jobs go to (often the client's own validator hotkey). */
  readonly validatorHotkey: string;
  /** Base URL of the facilitator, e.g. `http://127.0.0.1:9100`. */
  readonly facilitatorUrl: string;
  /** Status polling interval of `wait()` (ComputeHorde: 3 s). */
  readonly pollIntervalMs?: number;
  /** Tries per HTTP request on network errors, 429 and 5xx (ComputeHorde: 5). */
  readonly httpAttempts?: number;
  /** Per-request timeout. */
  readonly requestTimeoutMs?: number;
  /** A `fetch` to use instead of the global one. */
  readonly fetch?: typeof fetch;
}

export interface CreateJobOptions {
  /** Run on the validator's trusted miner (to cross-check another run of the same job). */
  readonly onTrustedMiner?: boolean;
}

export interface RunUntilCompleteOptions extends CreateJobOptions {
  /** Called with each attempt's job right after it is created. */
  readonly onAttempt?: (job: HordeJob, attempt: number) => void | Promise<void>;
  /** Overall limit across attempts; `JobTimeoutError` when it runs out. */
  readonly timeoutMs?: number;
  /** Attempts before giving up and returning the last job (≤ 0: unlimited). Default 3. */
  readonly maxAttempts?: number;
  readonly pollIntervalMs?: number;
  readonly onStatus?: (job: HordeJob) => void;
}

interface RequestOptions {
  readonly json?: JsonValue;
  readonly query?: Record<string, string | number>;
  readonly headers?: Record<string, string>;
  /** What a 404 means, for the error message. */
  readonly notFound?: string;
}

/**
 * Client of a horde (or ComputeHorde) facilitator: logs in with the hotkey (nonce → token),
 * submits signed jobs to one validator, follows them, reruns failures, reports cheats. HTTP
 * requests are retried on network errors, 429 and 5xx with backoff; an expired token is renewed once.
 */
export class HordeClient {
  readonly hotkey: Hotkey;
  readonly validatorHotkey: string;
  readonly pollIntervalMs: number;
  private readonly base: URL;
  private readonly httpAttempts: number;
  private readonly requestTimeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private token: string | null = null;
  private loggingIn: Promise<void> | null = null;

  constructor(options: HordeClientOptions) {
    this.hotkey = options.hotkey;
    this.validatorHotkey = options.validatorHotkey;
    this.base = new URL(options.facilitatorUrl.endsWith('/') ? options.facilitatorUrl : `${options.facilitatorUrl}/`);
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.httpAttempts = Math.max(1, options.httpAttempts ?? DEFAULT_HTTP_ATTEMPTS);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
  }

  private url(path: string, query?: Record<string, string | number>): URL {
    const url = new URL(path.replace(/^\//, ''), this.base);
    for (const [key, value] of Object.entries(query ?? {})) url.searchParams.set(key, String(value));
    return url;
  }

  /** One HTTP exchange with retries on network errors, 429 and 5xx. Returns status and text. */
  private async send(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<{ status: number; text: string }> {
    for (let attempt = 1; ; attempt++) {
      let status: number;
      let text: string;
      try {
        const response = await this.fetchImpl(url, {
          method,
          headers,
          ...definedFields({ body }),
          signal: AbortSignal.timeout(this.requestTimeoutMs),
        });
        status = response.status;
        text = await response.text();
      } catch (error) {
        if (attempt >= this.httpAttempts)
          throw new HordeClientError(`${method} ${url.pathname} failed: ${(error as Error).message}`, { cause: error });
        await sleep(backoffDelayMs(attempt));
        continue;
      }
      if ((status === 429 || status >= 500) && attempt < this.httpAttempts) {
        await sleep(backoffDelayMs(attempt));
        continue;
      }
      return { status, text };
    }
  }

  private fail(method: string, url: URL, status: number, text: string, notFound?: string): never {
    let detail = text;
    try {
      const parsed = JSON.parse(text) as { detail?: unknown };
      if (typeof parsed.detail === 'string') detail = parsed.detail;
    } catch {
      // not JSON: keep the text
    }
    if (status === 404) throw new JobNotFoundError(notFound ?? `${url.pathname} not found`, { body: text });
    throw new HordeClientError(`${method} ${url.pathname} answered ${status}: ${detail}`, { status, body: text });
  }

  /** Logs in: signs a fresh nonce and keeps the bearer token. Called on first use and when the token expires. */
  async authenticate(): Promise<void> {
    const nonceUrl = this.url('/api/v1/auth/nonce');
    const nonceReply = await this.send('GET', nonceUrl, {}, undefined);
    if (nonceReply.status !== 200) this.fail('GET', nonceUrl, nonceReply.status, nonceReply.text);
    const nonce = parseJson(z.object({ nonce: z.string().min(1) }), nonceReply.text, 'nonce reply').nonce;
    const loginUrl = this.url('/api/v1/auth/login');
    const payload = { hotkey: this.hotkey.ss58, signature: this.hotkey.sign(nonce).slice(2), nonce };
    const login = await this.send('POST', loginUrl, { 'content-type': 'application/json' }, JSON.stringify(payload));
    if (login.status !== 200) this.fail('POST', loginUrl, login.status, login.text);
    this.token = parseJson(z.object({ token: z.string().min(1) }), login.text, 'login reply').token;
  }

  private async ensureToken(): Promise<string> {
    if (this.token === null) {
      this.loggingIn ??= this.authenticate().finally(() => {
        this.loggingIn = null;
      });
      await this.loggingIn;
    }
    return this.token!;
  }

  private async request<T>(method: string, path: string, schema: z.ZodType<T>, options: RequestOptions = {}): Promise<T> {
    const url = this.url(path, options.query);
    const body = options.json === undefined ? undefined : JSON.stringify(options.json);
    for (let renewed = false; ; renewed = true) {
      const token = await this.ensureToken();
      const headers: Record<string, string> = {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      };
      const { status, text } = await this.send(method, url, headers, body);
      if (status === 401 && text.includes('Token expired') && !renewed) {
        if (this.token === token) this.token = null;
        continue;
      }
      if (status < 200 || status >= 300) this.fail(method, url, status, text, options.notFound);
      return parseJson(schema, text, `${method} ${url.pathname} reply`);
    }
  }

  /** @internal The job JSON (used by `HordeJob.refresh`). */
  fetchJob(uuid: string): Promise<JobResponse> {
    return this.request('GET', `/api/v1/jobs/${encodeURIComponent(uuid)}/`, jobResponseSchema, { notFound: `Job ${uuid} not found` });
  }

  /** Submits one job (no retries of the job itself; see `runUntilComplete`). */
  async createJob(spec: HordeJobSpec, options: CreateJobOptions = {}): Promise<HordeJob> {
    // As ComputeHorde's SDK: a fresh self-signed certificate per streaming job, for 127.0.0.1.
    const streamingClient = spec.streaming ? await generateCertificate('127.0.0.1') : null;
    const body = jobRequestBody(spec, this.validatorHotkey, options.onTrustedMiner ?? false, streamingClient?.certPem);
    const { headers } = signJobCreation(this.hotkey, body);
    return new HordeJob(
      this,
      await this.request('POST', '/api/v1/job-docker/', jobResponseSchema, { json: body, headers }),
      streamingClient,
    );
  }

  /** A job by uuid; `JobNotFoundError` when it does not exist (or is another client's). */
  async getJob(uuid: string): Promise<HordeJob> {
    return new HordeJob(this, await this.fetchJob(uuid));
  }

  /** One page of this client's jobs, newest first. */
  async getJobs(options: { page?: number; pageSize?: number } = {}): Promise<HordeJob[]> {
    return (await this.jobsPage(options.page ?? 1, options.pageSize ?? 10)).jobs;
  }

  private async jobsPage(page: number, pageSize: number): Promise<{ jobs: HordeJob[]; hasNext: boolean }> {
    const reply = await this.request('GET', '/api/v1/jobs/', jobsPageSchema, {
      query: { page, page_size: pageSize },
      notFound: `Page ${page} of jobs does not exist`,
    });
    return { jobs: reply.results.map((job) => new HordeJob(this, job)), hasNext: Boolean(reply.next) };
  }

  /** Every job of this client, newest first, page by page. */
  async *iterJobs(options: { pageSize?: number } = {}): AsyncGenerator<HordeJob> {
    for (let page = 1; ; page++) {
      const { jobs, hasNext } = await this.jobsPage(page, options.pageSize ?? 10);
      yield* jobs;
      if (!hasNext) return;
    }
  }

  /**
   * Runs a job until it completes: creates it, waits, and on failure (rejected, failed, horde
   * failure) tries again after a backoff, up to `maxAttempts`; returns the last attempt either way.
   * `timeoutMs` bounds the whole run (`JobTimeoutError`).
   */
  async runUntilComplete(spec: HordeJobSpec, options: RunUntilCompleteOptions = {}): Promise<HordeJob> {
    const started = Date.now();
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_JOB_ATTEMPTS;
    const left = () => (options.timeoutMs === undefined ? undefined : Math.max(0, options.timeoutMs - (Date.now() - started)));
    for (let attempt = 1; ; attempt++) {
      const job = await this.createJob(spec, options);
      await options.onAttempt?.(job, attempt);
      const remaining = left();
      await job.wait({
        ...definedFields({ timeoutMs: remaining, pollIntervalMs: options.pollIntervalMs, onStatus: options.onStatus }),
      });
      if (job.isSuccessful || (maxAttempts > 0 && attempt >= maxAttempts)) return job;
      const delay = backoffDelayMs(attempt);
      const budget = left();
      if (budget !== undefined && budget <= delay)
        throw new JobTimeoutError(
          `Job did not complete within ${options.timeoutMs} ms (${attempt} attempts, last ${job.uuid}: ${job.status})`,
        );
      await sleep(delay);
    }
  }

  /**
   * Reports that `jobUuid`'s result disagreed with the same job run on the trusted miner
   * (`trustedJobUuid`). The validator withdraws the miner's pay for it and stops routing to it for a while.
   */
  async reportCheatedJob(jobUuid: string, trustedJobUuid: string, options: { details?: JsonValue } = {}): Promise<void> {
    const body = { job_uuid: jobUuid, trusted_job_uuid: trustedJobUuid, details: options.details ?? null };
    const { headers } = signCheatReport(this.hotkey, body);
    await this.request('POST', `/api/v1/jobs/${encodeURIComponent(jobUuid)}/cheated/`, z.unknown(), {
      json: body,
      headers,
      notFound: `Job ${jobUuid} or ${trustedJobUuid} not found`,
    });
  }
}

function parseJson<T>(schema: z.ZodType<T>, text: string, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HordeClientError(`The facilitator's ${what} is not JSON`, { cause: error, body: text });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new HordeClientError(`The facilitator's ${what} is malformed: ${parsed.error.issues[0]?.message ?? 'invalid'}`, { body: text });
  return parsed.data;
}
