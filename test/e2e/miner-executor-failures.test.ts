/**
 * How executor-side failures reach the validator, end to end (real miner, real `horde executor`
 * processes with the process runner): the job's own faults as `V0JobFailedRequest` with the
 * original's reasons and stages, and executors that cannot start, never connect or outlive their
 * TTL as horde failures reported by the miner.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { S3ObjectStore } from '../../core/src/objectstore/s3.js';
import { s3Config, testImage, uniqueBucketName } from '../support/services.js';
import { startTestMiner, TEST_CLASS, type TestMiner } from '../support/miner-harness.js';
import { TestValidator } from '../support/test-validator.js';

const TIMING = {
  allowed_leeway: 5,
  download_time_limit: 10,
  execution_time_limit: 10,
  upload_time_limit: 10,
  streaming_start_time_limit: 5,
};
const IMAGE = testImage();

function zipOf(entries: Record<string, string>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, text] of Object.entries(entries)) zip.addBuffer(Buffer.from(text), name, { compress: false });
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream
      .on('data', (c: Buffer) => chunks.push(c))
      .on('end', () => resolve(Buffer.concat(chunks)))
      .on('error', reject);
  });
}

/** A zip whose one entry is named `../escaped.txt` (yazl refuses such names, so patch the bytes). */
async function escapingZip(): Promise<Buffer> {
  const zip = await zipOf({ xxxxxxxxxxxxxx: 'outside' });
  const bytes = Buffer.from(zip);
  for (let i = bytes.indexOf('xxxxxxxxxxxxxx'); i >= 0; i = bytes.indexOf('xxxxxxxxxxxxxx', i + 1)) bytes.write('../escaped.txt', i);
  return bytes;
}

async function waitIdle(env: TestMiner, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const health = (await (await fetch(`${env.url}/healthz`)).json()) as { executors: Record<string, { used: number }> };
    if (Object.values(health.executors).every((u) => u.used === 0)) return;
    if (Date.now() > deadline) throw new Error(`executors still busy: ${JSON.stringify(health.executors)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.each(['sqlite', 'postgres'] as const)('executor failures reach the validator (%s store)', (dialect) => {
  let env: TestMiner;
  let objects: S3ObjectStore;

  beforeAll(async () => {
    objects = new S3ObjectStore({ ...s3Config(uniqueBucketName('miner-fail')) });
    await objects.ensureBucket();
    env = await startTestMiner({ dialect, runner: 'process', processImages: { [IMAGE]: ['env'] } });
  });
  afterAll(async () => {
    await env?.close();
  });
  beforeEach(async () => {
    if (env) await waitIdle(env);
  });

  /** Runs one job through ready → job request, returning the client to read the outcome from. */
  async function run(fields: {
    script: string;
    volume?: object;
    upload?: object;
    timing?: typeof TIMING;
  }): Promise<{ client: TestValidator; jobUuid: string }> {
    const client = await TestValidator.connect({ url: env.url, validator: env.validatorA, minerHotkey: env.minerHotkey.ss58 });
    await client.expect('V0ExecutorManifestRequest');
    const { jobUuid } = await client.initialJobRequest({
      executor_class: TEST_CLASS,
      docker_image: IMAGE,
      executor_timing: fields.timing ?? TIMING,
      ...(fields.volume ? { volume: fields.volume as never } : {}),
    });
    await client.expect('V0AcceptJobRequest', jobUuid);
    await client.expect('V0ExecutorReadyRequest', jobUuid, 30_000);
    await client.jobRequest({
      job_uuid: jobUuid,
      executor_class: TEST_CLASS,
      docker_image: IMAGE,
      docker_run_options_preset: 'none',
      docker_run_cmd: ['sh', '-c', fields.script],
      env: {},
      ...(fields.upload ? { output_upload: fields.upload as never } : {}),
    });
    return { client, jobUuid };
  }

  it('reports a nonzero exit as nonzero_return_code with the exit status and output', async () => {
    const { client, jobUuid } = await run({ script: 'echo partial; exit 3' });
    await client.expect('V0VolumesReadyRequest', jobUuid);
    const failed = await client.expect('V0JobFailedRequest', jobUuid, 20_000);
    expect(failed).toMatchObject({ reason: 'nonzero_return_code', stage: 'execution', docker_process_exit_status: 3 });
    expect(failed.docker_process_stdout).toContain('partial');
    await client.close();
  }, 60_000);

  it('reports a volume that cannot be downloaded as download_failed', async () => {
    const missing = await objects.presignGet('does/not/exist.zip', 600);
    const { client, jobUuid } = await run({ script: 'true', volume: { volume_type: 'zip_url', contents: missing } });
    expect(await client.expect('V0JobFailedRequest', jobUuid, 20_000)).toMatchObject({
      reason: 'download_failed',
      stage: 'volume_download',
    });
    await client.close();
  }, 60_000);

  it('rejects a zip entry that escapes the volume directory as download_failed', async () => {
    const contents = (await escapingZip()).toString('base64');
    const { client, jobUuid } = await run({ script: 'true', volume: { volume_type: 'inline', contents } });
    const failed = await client.expect('V0JobFailedRequest', jobUuid, 20_000);
    expect(failed).toMatchObject({ reason: 'download_failed', stage: 'volume_download' });
    expect(failed.message).toMatch(/escaped\.txt|outside/);
    await client.close();
  }, 60_000);

  it('reports an upload the server refuses as upload_failed', async () => {
    const url = await objects.presignPut('out/refused.zip', 600);
    const tampered = url.replace(/X-Amz-Signature=([0-9a-f])/, (_m, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`);
    const { client, jobUuid } = await run({ script: 'echo hi', upload: { output_upload_type: 'zip_and_http_put', url: tampered } });
    await client.expect('V0VolumesReadyRequest', jobUuid);
    await client.expect('V0ExecutionDoneRequest', jobUuid, 20_000);
    const failed = await client.expect('V0JobFailedRequest', jobUuid, 40_000);
    expect(failed).toMatchObject({ reason: 'upload_failed', stage: 'result_upload' });
    await client.close();
  }, 60_000);

  it('reports a download that runs past its stage deadline as timeout in volume_download', async () => {
    // The executor waits for the job request within the download stage: never sending it times out.
    const client = await TestValidator.connect({ url: env.url, validator: env.validatorA, minerHotkey: env.minerHotkey.ss58 });
    await client.expect('V0ExecutorManifestRequest');
    const { jobUuid } = await client.initialJobRequest({
      executor_class: TEST_CLASS,
      docker_image: IMAGE,
      executor_timing: { ...TIMING, allowed_leeway: 1, download_time_limit: 1 },
    });
    await client.expect('V0AcceptJobRequest', jobUuid);
    await client.expect('V0ExecutorReadyRequest', jobUuid, 30_000);
    expect(await client.expect('V0JobFailedRequest', jobUuid, 10_000)).toMatchObject({ reason: 'timeout', stage: 'volume_download' });
    await client.close();
  }, 60_000);
});

describe('executors that do not start, never connect, or outlive their TTL', () => {
  async function withMiner(
    miner: Parameters<typeof startTestMiner>[0]['miner'],
    body: (env: TestMiner, client: TestValidator) => Promise<void>,
  ): Promise<void> {
    const env = await startTestMiner({
      dialect: 'sqlite',
      runner: 'process',
      processImages: { [IMAGE]: ['env'] },
      ...(miner ? { miner } : {}),
    });
    try {
      const client = await TestValidator.connect({ url: env.url, validator: env.validatorA, minerHotkey: env.minerHotkey.ss58 });
      await client.expect('V0ExecutorManifestRequest');
      await body(env, client);
      await client.close();
    } finally {
      await env.close();
    }
  }

  it('reports executor_spinup_failed when the executor manager cannot start the agent', async () => {
    await withMiner({ executorCommand: ['/nonexistent/horde-agent'] }, async (_env, client) => {
      const { jobUuid } = await client.initialJobRequest({ executor_class: TEST_CLASS, docker_image: IMAGE, executor_timing: TIMING });
      await client.expect('V0AcceptJobRequest', jobUuid); // the slot was reserved before the start failed
      expect(await client.expect('V0HordeFailedRequest', jobUuid)).toMatchObject({
        reason: 'executor_spinup_failed',
        reported_by: 'miner',
      });
    });
  }, 30_000);

  it('reports executor_spinup_failed when the agent exits before connecting', async () => {
    await withMiner({ executorCommand: [process.execPath, '-e', 'process.exit(3)'] }, async (_env, client) => {
      const { jobUuid } = await client.initialJobRequest({ executor_class: TEST_CLASS, docker_image: IMAGE, executor_timing: TIMING });
      await client.expect('V0AcceptJobRequest', jobUuid);
      const failure = await client.expect('V0HordeFailedRequest', jobUuid);
      expect(failure).toMatchObject({ reason: 'executor_spinup_failed', reported_by: 'miner' });
      expect(failure.message).toContain('exit code 3');
    });
  }, 30_000);

  it('expires the token and kills an agent that never connects within spin-up + startup limit', async () => {
    await withMiner(
      {
        executorCommand: [process.execPath, '-e', 'setInterval(() => {}, 1000)'],
        defaultSpinUpSeconds: 1,
        executorStartupTimeLimitSeconds: 1,
      },
      async (env, client) => {
        const { jobUuid } = await client.initialJobRequest({ executor_class: TEST_CLASS, docker_image: IMAGE, executor_timing: TIMING });
        await client.expect('V0AcceptJobRequest', jobUuid);
        const failure = await client.expect('V0HordeFailedRequest', jobUuid, 10_000);
        expect(failure).toMatchObject({ reason: 'executor_spinup_failed', reported_by: 'miner' });
        expect(failure.message).toMatch(/did not connect within 2 s/);
        // The agent was killed and its slot freed.
        const deadline = Date.now() + 10_000;
        for (;;) {
          const health = (await (await fetch(`${env.url}/healthz`)).json()) as { executors: Record<string, { used: number }> };
          if (health.executors[TEST_CLASS]?.used === 0) break;
          if (Date.now() > deadline) throw new Error('the expired executor still holds its slot');
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      },
    );
  }, 30_000);

  it('kills an executor that outlives the TTL and reports the job as a horde failure', async () => {
    await withMiner({ executorTtlSeconds: 3 }, async (_env, client) => {
      const { jobUuid } = await client.initialJobRequest({
        executor_class: TEST_CLASS,
        docker_image: IMAGE,
        executor_timing: { ...TIMING, execution_time_limit: 60 },
      });
      await client.expect('V0AcceptJobRequest', jobUuid);
      await client.expect('V0ExecutorReadyRequest', jobUuid, 30_000);
      await client.jobRequest({
        job_uuid: jobUuid,
        executor_class: TEST_CLASS,
        docker_image: IMAGE,
        docker_run_options_preset: 'none',
        docker_run_cmd: ['sh', '-c', 'sleep 60'],
        env: {},
      });
      await client.expect('V0VolumesReadyRequest', jobUuid);
      const failure = await client.expect('V0HordeFailedRequest', jobUuid, 15_000);
      expect(failure).toMatchObject({ reason: 'executor_disconnected', reported_by: 'miner' });
    });
  }, 40_000);
});
