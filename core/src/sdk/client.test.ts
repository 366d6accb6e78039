import { createServer, type Server } from 'node:http';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestFacilitator, type TestFacilitator } from '../facilitator/__tests__/harness.js';
import { loadHotkey, type Hotkey } from '../keys/index.js';
import { encodeMessage, parseFacilitatorToValidator } from '../protocol/codec.js';
import { createFacilitatorAuth } from '../protocol/facilitator-auth.js';
import type { V0JobStatusUpdate, V2JobRequest } from '../protocol/facilitator-messages.js';
import { verifyJobRequestSignature } from '../protocol/sdk-signature.js';
import {
  backoffDelayMs,
  HordeClient,
  HordeClientError,
  JobNotFoundError,
  JobTimeoutError,
  jobRequestBody,
  type HordeJob,
  type HordeJobSpec,
} from './index.js';

type Update = Omit<V0JobStatusUpdate, 'message_type' | 'uuid'>;

/**
 * A validator on the facilitator's websocket that answers each job with a scripted list of
 * status updates (the real validator is exercised end to end in test/e2e/organic-jobs.test.ts).
 */
class ScriptedValidator {
  readonly jobs: V2JobRequest[] = [];
  script: (job: V2JobRequest, index: number) => Update[] = () => [];
  private constructor(private readonly socket: WebSocket) {}

  static async connect(url: string, hotkey: Hotkey): Promise<ScriptedValidator> {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws/v0/`);
    const validator = new ScriptedValidator(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.on('message', (data) => {
        const parsed = parseFacilitatorToValidator(data.toString());
        if (!parsed.ok) throw new Error(parsed.error.message);
        const message = parsed.message;
        if (!('message_type' in message)) {
          if (message.status === 'success') resolve();
          return;
        }
        if (message.message_type === 'V2JobRequest') void validator.onJob(message);
      });
      socket.once('open', () => socket.send(encodeMessage(createFacilitatorAuth(hotkey))));
    });
    return validator;
  }

  private async onJob(job: V2JobRequest): Promise<void> {
    if (this.jobs.some((j) => j.uuid === job.uuid)) return;
    this.jobs.push(job);
    if (!(await verifyJobRequestSignature(job)).ok) throw new Error('the SDK signature does not verify at the validator');
    for (const update of this.script(job, this.jobs.length - 1)) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      this.socket.send(encodeMessage({ message_type: 'V0JobStatusUpdate', uuid: job.uuid, ...update }));
    }
  }

  close(): void {
    this.socket.close();
  }
}

const SPEC: HordeJobSpec = {
  executorClass: 'always_on.test',
  namespace: 'SN99.0',
  image: 'horde/echo:1',
  args: ['hello'],
  env: { MODE: 'test' },
  artifactsDir: '/artifacts',
  inputVolumes: { '/volume/data.txt': { type: 'http', url: 'https://example.com/data.txt' } },
  outputVolumes: { '/output/result.json': { httpMethod: 'PUT', url: 'https://bucket.example/result.json?sig=1' } },
  downloadTimeLimitSec: 5,
  executionTimeLimitSec: 10,
  uploadTimeLimitSec: 5,
};

const failed: Update = {
  status: 'failed',
  metadata: {
    job_failure_details: {
      reason: 'nonzero_return_code',
      stage: 'execution',
      message: 'exit 1',
      docker_process_exit_status: 1,
      docker_process_stdout: '',
      docker_process_stderr: 'boom',
    },
  },
};
const completed = (stdout: string): Update => ({
  status: 'completed',
  metadata: {
    miner_response: {
      docker_process_stdout: stdout,
      docker_process_stderr: '',
      artifacts: { '/artifacts/out.bin': Buffer.from([1, 2, 3]).toString('base64') },
      upload_results: { 'result.json': JSON.stringify({ headers: { etag: '"x"' }, body: '' }) },
    },
  },
});

let f: TestFacilitator;
let validator: ScriptedValidator;
let client: HordeClient;

beforeAll(async () => {
  f = await startTestFacilitator({ listen: true });
  validator = await ScriptedValidator.connect(f.handle.url!, f.validator);
  client = new HordeClient({ hotkey: f.alice, validatorHotkey: f.validator.ss58, facilitatorUrl: f.handle.url!, pollIntervalMs: 50 });
});
afterAll(async () => {
  validator?.close();
  await f?.close();
});

describe('HordeClient against a facilitator', () => {
  it('runUntilComplete reruns a failed attempt and returns the completed one with its output', async () => {
    validator.script = (_job, index) =>
      index === 0
        ? [{ status: 'received' }, { status: 'accepted' }, failed]
        : [
            { status: 'received' },
            { status: 'accepted' },
            { status: 'executor_ready' },
            { status: 'volumes_ready' },
            { status: 'execution_done' },
            completed('hello\n'),
          ];
    const attempts: HordeJob[] = [];
    const seen: string[] = [];
    const job = await client.runUntilComplete(SPEC, {
      onAttempt: (j) => void attempts.push(j),
      onStatus: (j) => seen.push(j.status),
      timeoutMs: 20_000,
    });

    expect(attempts).toHaveLength(2);
    expect(job.uuid).toBe(attempts[1]!.uuid);
    expect(job.status).toBe('completed');
    expect(job.result).toEqual({
      stdout: 'hello\n',
      stderr: '',
      artifacts: { '/artifacts/out.bin': Buffer.from([1, 2, 3]) },
      uploadResults: { '/output/result.json': { headers: { etag: '"x"' }, body: '' } },
    });
    expect(job.statusHistory.map((s) => s.status)).toEqual([
      'sent',
      'received',
      'accepted',
      'executor_ready',
      'volumes_ready',
      'execution_done',
      'completed',
    ]);
    expect(seen.at(-1)).toBe('completed');
    // The first attempt failed with the job's own failure details.
    const first = await client.getJob(attempts[0]!.uuid);
    expect(first.status).toBe('failed');
    expect(first.result?.stderr).toBe('boom');
    expect(first.statusHistory.at(-1)?.metadata?.job_failure_details?.reason).toBe('nonzero_return_code');

    // The validator got the spec as the SDK built it (volumes, uploads, namespace, limits).
    const relayed = validator.jobs.at(-1)!;
    expect(relayed).toMatchObject({
      job_namespace: 'SN99.0',
      executor_class: 'always_on.test',
      args: ['hello'],
      env: { MODE: 'test' },
      volume: { volume_type: 'single_file', url: 'https://example.com/data.txt', relative_path: 'data.txt' },
      output_upload: {
        output_upload_type: 'single_file_put',
        url: 'https://bucket.example/result.json?sig=1',
        relative_path: 'result.json',
      },
      download_time_limit: 5,
      execution_time_limit: 10,
      upload_time_limit: 5,
      on_trusted_miner: false,
    });
  });

  it('gives up after maxAttempts and returns the last failed attempt', async () => {
    validator.script = () => [
      {
        status: 'rejected',
        metadata: { job_rejection_details: { rejected_by: 'validator', reason: 'no_miner_for_job', message: 'no miner' } },
      },
    ];
    const before = validator.jobs.length;
    const job = await client.runUntilComplete(SPEC, { maxAttempts: 2, timeoutMs: 20_000 });
    expect(validator.jobs.length - before).toBe(2);
    expect(job.status).toBe('rejected');
    expect(job.displayStatus).toBe('Rejected');
  });

  it('raises JobTimeoutError when the job does not end in time', async () => {
    validator.script = () => [{ status: 'received' }];
    await expect(client.runUntilComplete(SPEC, { timeoutMs: 600 })).rejects.toBeInstanceOf(JobTimeoutError);
  });

  it("raises JobNotFoundError for an unknown job and pages through the client's jobs", async () => {
    await expect(client.getJob('00000000-0000-0000-0000-000000000000')).rejects.toBeInstanceOf(JobNotFoundError);
    const all: string[] = [];
    for await (const job of client.iterJobs({ pageSize: 2 })) all.push(job.uuid);
    expect(all.length).toBe(validator.jobs.length);
    expect(new Set(all)).toEqual(new Set(validator.jobs.map((j) => j.uuid)));
    const firstPage = await client.getJobs({ page: 1, pageSize: 2 });
    expect(firstPage.map((j) => j.uuid)).toEqual(all.slice(0, 2));
    await expect(client.getJobs({ page: 99, pageSize: 2 })).rejects.toBeInstanceOf(JobNotFoundError);
  });

  it('logs in again when its token has expired', async () => {
    const job = (await client.getJobs({ pageSize: 1 }))[0]!;
    f.clock.advance(3_601_000);
    try {
      expect((await client.getJob(job.uuid)).uuid).toBe(job.uuid);
    } finally {
      f.clock.advance(-3_601_000);
    }
  });

  it('reports a cheated job against its trusted-miner twin; a second report is refused', async () => {
    validator.script = (job) => [completed(job.on_trusted_miner ? 'truth' : 'lie')];
    const job = await client.runUntilComplete(SPEC, { timeoutMs: 10_000 });
    const trusted = await client.runUntilComplete(SPEC, { onTrustedMiner: true, timeoutMs: 10_000 });
    expect([job.result?.stdout, trusted.result?.stdout]).toEqual(['lie', 'truth']);
    await client.reportCheatedJob(job.uuid, trusted.uuid, { details: { expected: 'truth' } });
    const again = client.reportCheatedJob(job.uuid, trusted.uuid);
    await expect(again).rejects.toBeInstanceOf(HordeClientError);
    await expect(again).rejects.toMatchObject({ status: 409 });
  });

  it('fails to log in with a hotkey the facilitator does not allow', async () => {
    const stranger = new HordeClient({ hotkey: f.eve, validatorHotkey: f.validator.ss58, facilitatorUrl: f.handle.url! });
    await expect(stranger.authenticate()).rejects.toMatchObject({ status: 403 });
  });
});

describe('HordeClient HTTP retries', () => {
  let server: Server;
  let url: string;
  let nonceCalls = 0;
  const callTimes: number[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/api/v1/auth/nonce') {
        callTimes.push(Date.now());
        nonceCalls++;
        if (nonceCalls <= 2) {
          res.writeHead(503).end('busy');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ nonce: 'n1' }));
        return;
      }
      if (req.url === '/api/v1/auth/login') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 't1' }));
        return;
      }
      res.writeHead(500).end('always broken');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(() => {
    server.close();
  });

  it('retries 5xx answers with growing delays, then gives up with the last status', async () => {
    const c = new HordeClient({
      hotkey: await loadHotkey({ uri: '//SdkRetry' }),
      validatorHotkey: 'v',
      facilitatorUrl: url,
      httpAttempts: 3,
    });
    await c.authenticate();
    expect(nonceCalls).toBe(3);
    expect(callTimes[1]! - callTimes[0]!).toBeGreaterThanOrEqual(190);
    expect(callTimes[2]! - callTimes[1]!).toBeGreaterThanOrEqual(390);
    await expect(c.getJob('x')).rejects.toMatchObject({ status: 500 });
  });
});

describe('SDK pieces', () => {
  it('backs off 0.2 s · 2^(n−1), capped at 5 s, plus at most 10 % jitter', () => {
    expect([1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelayMs(n, () => 0))).toEqual([200, 400, 800, 1600, 3200, 5000, 5000]);
    expect(backoffDelayMs(1, () => 0.999)).toBeCloseTo(219.98, 1);
    expect(backoffDelayMs(9, () => 1)).toBe(5500);
  });

  it("builds the body ComputeHorde's SDK sends, and refuses volumes outside /volume/ and /output/", () => {
    expect(
      jobRequestBody(
        {
          ...SPEC,
          inputVolumes: { '/volume/models': { type: 'huggingface', repoId: 'org/model', allowPatterns: ['*.json'] } },
          outputVolumes: {},
        },
        'V',
        true,
      ),
    ).toEqual({
      target_validator_hotkey: 'V',
      executor_class: 'always_on.test',
      docker_image: 'horde/echo:1',
      job_namespace: 'SN99.0',
      args: ['hello'],
      env: { MODE: 'test' },
      use_gpu: true,
      artifacts_dir: '/artifacts',
      on_trusted_miner: true,
      download_time_limit: 5,
      execution_time_limit: 10,
      streaming_start_time_limit: 5,
      upload_time_limit: 5,
      volumes: [
        {
          volume_type: 'huggingface_volume',
          repo_id: 'org/model',
          repo_type: null,
          revision: null,
          relative_path: 'models',
          allow_patterns: ['*.json'],
          token: null,
        },
      ],
      uploads: [],
    });
    expect(() => jobRequestBody({ ...SPEC, inputVolumes: { '/data/x': { type: 'http', url: 'u' } } }, 'V', false)).toThrow(/\/volume\//);
    expect(() => jobRequestBody({ ...SPEC, outputVolumes: { '/tmp/x': { httpMethod: 'PUT', url: 'u' } } }, 'V', false)).toThrow(
      /\/output\//,
    );
  });
});
