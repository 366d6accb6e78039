/**
 * A hurried validator (#11 hole 7) and what the miner keeps of a request (#11 "smaller"): a
 * `V0JobRequest` sent before "executor ready" killed the job as `executor_spinup_failed`, the
 * miner's fault; it must be held until the executor is ready and then run. And the stored job rows
 * must not keep the inline volume's bytes (up to ~50 MB per job, for the two-day retention).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeZip } from '../support/zip.js';
import { startTestMiner, TEST_CLASS, type TestMiner } from '../support/miner-harness.js';
import { testImage } from '../support/services.js';
import { TestValidator } from '../support/test-validator.js';

const IMAGE = testImage();
const TIMING = {
  allowed_leeway: 5,
  download_time_limit: 10,
  execution_time_limit: 10,
  upload_time_limit: 10,
  streaming_start_time_limit: 5,
};

describe.each(['sqlite', 'postgres'] as const)('job request order and stored details (%s store)', (dialect) => {
  let env: TestMiner;

  beforeAll(async () => {
    env = await startTestMiner({ dialect, runner: 'process', processImages: { [IMAGE]: ['env'] } });
  }, 60_000);
  afterAll(async () => {
    await env?.close();
  });

  it('holds a job request sent before "executor ready" and runs the job once the executor is ready', async () => {
    const volume = await makeZip([{ name: 'input.txt', data: 'x'.repeat(200_000) }], { compress: false });
    const contents = volume.toString('base64');
    const client = await TestValidator.connect({ url: env.url, validator: env.validatorA, minerHotkey: env.minerHotkey.ss58 });
    await client.expect('V0ExecutorManifestRequest');
    const { jobUuid } = await client.initialJobRequest({
      executor_class: TEST_CLASS,
      docker_image: IMAGE,
      executor_timing: TIMING,
      volume: { volume_type: 'inline', contents },
    });
    // At once, without waiting for V0AcceptJobRequest or V0ExecutorReadyRequest.
    await client.jobRequest({
      job_uuid: jobUuid,
      executor_class: TEST_CLASS,
      docker_image: IMAGE,
      docker_run_options_preset: 'none',
      docker_run_cmd: ['sh', '-c', 'wc -c < /dev/null; echo ran early'],
      env: {},
    });
    await client.expect('V0AcceptJobRequest', jobUuid);
    await client.expect('V0ExecutorReadyRequest', jobUuid, 30_000);
    await client.expect('V0VolumesReadyRequest', jobUuid, 30_000);
    await client.expect('V0ExecutionDoneRequest', jobUuid, 30_000);
    expect((await client.expect('V0JobFinishedRequest', jobUuid, 30_000)).docker_process_stdout).toContain('ran early');
    expect(client.received.some((m) => m.message_type === 'V0HordeFailedRequest')).toBe(false);
    await client.close();

    // The stored rows say what was asked, without the inline volume's bytes (the end is written as
    // the result goes out: wait for it, the job request's row is written before it).
    await expect
      .poll(async () => ((await env.store.db('miner_jobs').where({ job_uuid: jobUuid }).first('status')) as { status: string }).status, {
        timeout: 10_000,
      })
      .toBe('finished');
    const row = (await env.store.db('miner_jobs').where({ job_uuid: jobUuid }).first()) as Record<string, unknown>;
    const stored = `${JSON.stringify(row.initial_job_details)}${JSON.stringify(row.full_job_details)}`;
    expect(stored).not.toContain(contents.slice(0, 1000));
    expect(stored.length).toBeLessThan(10_000);
    expect(stored).toContain('inline');
  }, 60_000);
});
