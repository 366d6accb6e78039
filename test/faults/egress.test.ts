/**
 * SSRF through volumes and uploads, end to end (a real miner, real `horde executor` processes): a
 * validator's URL must not make the executor read the miner's own `/metrics`, an internal server on
 * 127.0.0.1 or the cloud metadata address, directly or through a redirect, and must not PUT a job's
 * output there. With the default policy every such job fails as the job's fault (download_failed /
 * upload_failed) and the internal server sees no request at all.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHttpServer, type TestHttpServer } from '../support/http-server.js';
import { startTestMiner, TEST_CLASS, type TestMiner } from '../support/miner-harness.js';
import { testImage } from '../support/services.js';
import type { TestValidator } from '../support/test-validator.js';
import { connectAsValidator, sendShellJob } from './job-steps.js';
import { waitForIdleExecutors } from './miner-health.js';

const IMAGE = testImage();
const TIMING = {
  allowed_leeway: 5,
  download_time_limit: 10,
  execution_time_limit: 10,
  upload_time_limit: 10,
  streaming_start_time_limit: 5,
};

async function runJob(env: TestMiner, fields: { volume?: object; upload?: object }): Promise<{ client: TestValidator; jobUuid: string }> {
  const client = await connectAsValidator({ url: env.url, validator: env.validatorA, minerHotkey: env.minerHotkey.ss58 });
  const jobUuid = await sendShellJob(client, {
    executorClass: TEST_CLASS,
    image: IMAGE,
    timing: TIMING,
    script: 'cat /volume/* 2>/dev/null; echo output > "$HORDE_OUTPUT_DIR/out.txt" 2>/dev/null; true',
    request: {
      ...(fields.volume ? { volume: fields.volume as never } : {}),
      ...(fields.upload ? { output_upload: fields.upload as never } : {}),
    },
  });
  return { client, jobUuid };
}

describe('egress policy for volumes and uploads (default: nothing internal)', () => {
  let env: TestMiner;
  let internal: TestHttpServer;

  beforeAll(async () => {
    internal = await startHttpServer((_req, res) => void res.writeHead(200).end('INTERNAL-SECRET'));
    // The default policy: no allowlist at all.
    env = await startTestMiner({
      dialect: 'sqlite',
      runner: 'process',
      processImages: { [IMAGE]: ['env'] },
      executor: { egressAllowlist: [] },
    });
  }, 60_000);
  afterAll(async () => {
    await env?.close();
    await internal?.close();
  });
  beforeEach(async () => {
    if (env) await waitForIdleExecutors(env.url);
  });

  it.each([
    ['an internal server on 127.0.0.1', () => `${internal.url}/secret`],
    ["the miner's own /metrics", () => `${env.url}/metrics`],
    ['the cloud metadata address 169.254.169.254', () => 'http://169.254.169.254/latest/meta-data/iam/security-credentials/'],
    ['a name that resolves to loopback', () => `http://localhost:${new URL(internal.url).port}/secret`],
  ])(
    'refuses a volume URL to %s as download_failed',
    async (_label, url) => {
      const before = internal.requests.length;
      const { client, jobUuid } = await runJob(env, { volume: { volume_type: 'single_file', url: url(), relative_path: 'f.txt' } });
      const failed = await client.expect('V0JobFailedRequest', jobUuid, 30_000);
      expect(failed).toMatchObject({ reason: 'download_failed', stage: 'volume_download' });
      expect(failed.message).toMatch(/egress policy/);
      expect(JSON.stringify(client.received)).not.toContain('INTERNAL-SECRET');
      expect(JSON.stringify(client.received)).not.toContain('process_cpu');
      expect(internal.requests.length).toBe(before);
      await client.close();
    },
    60_000,
  );

  it('refuses an output upload to 127.0.0.1 as upload_failed and sends nothing there', async () => {
    const before = internal.requests.length;
    const { client, jobUuid } = await runJob(env, {
      upload: { output_upload_type: 'zip_and_http_put', url: `${internal.url}/latest/meta-data` },
    });
    await client.expect('V0VolumesReadyRequest', jobUuid, 30_000);
    await client.expect('V0ExecutionDoneRequest', jobUuid, 30_000);
    const failed = await client.expect('V0JobFailedRequest', jobUuid, 30_000);
    expect(failed).toMatchObject({ reason: 'upload_failed', stage: 'result_upload' });
    expect(internal.requests.length).toBe(before);
    await client.close();
  }, 60_000);
});

describe('egress policy with an allowlisted storage server that redirects', () => {
  let env: TestMiner;
  let storage: TestHttpServer;

  beforeAll(async () => {
    // The operator's storage is allowed; it answers every request with a 307 to the metadata address.
    storage = await startHttpServer((_req, res) => void res.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/' }).end());
    env = await startTestMiner({
      dialect: 'sqlite',
      runner: 'process',
      processImages: { [IMAGE]: ['env'] },
      executor: { egressAllowlist: ['127.0.0.1/32'] },
    });
  }, 60_000);
  afterAll(async () => {
    await env?.close();
    await storage?.close();
  });
  beforeEach(async () => {
    if (env) await waitForIdleExecutors(env.url);
  });

  it('checks the redirect hop of a download', async () => {
    const { client, jobUuid } = await runJob(env, {
      volume: { volume_type: 'single_file', url: `${storage.url}/file`, relative_path: 'f.txt' },
    });
    const failed = await client.expect('V0JobFailedRequest', jobUuid, 30_000);
    expect(failed).toMatchObject({ reason: 'download_failed', stage: 'volume_download' });
    expect(failed.message).toMatch(/169\.254\.169\.254/);
    await client.close();
  }, 60_000);

  it('checks the redirect hop of an output PUT (307 keeps the body)', async () => {
    const { client, jobUuid } = await runJob(env, { upload: { output_upload_type: 'zip_and_http_put', url: `${storage.url}/put` } });
    await client.expect('V0VolumesReadyRequest', jobUuid, 30_000);
    await client.expect('V0ExecutionDoneRequest', jobUuid, 30_000);
    const failed = await client.expect('V0JobFailedRequest', jobUuid, 30_000);
    expect(failed).toMatchObject({ reason: 'upload_failed', stage: 'result_upload' });
    expect(failed.message).toMatch(/169\.254\.169\.254/);
    await client.close();
  }, 60_000);
});
