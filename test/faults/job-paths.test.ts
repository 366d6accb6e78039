/**
 * Paths a validator sends (#11 hole 6), end to end with the docker runner: an `artifacts_dir` over
 * the job's own mounts or carrying mount options went straight into the bind spec and ended the job
 * as a horde failure (`unhandled_exception`), the miner's fault. Each must end as a job failure
 * reported by the executor, with the reason, and never reach the engine.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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

describe('paths a validator sends', () => {
  let env: TestMiner;

  beforeAll(async () => {
    env = await startTestMiner({ dialect: 'sqlite', runner: 'docker', executor: { startupChecks: false } });
  }, 60_000);
  afterAll(async () => {
    await env?.close();
  });
  beforeEach(async () => {
    if (env) await waitForIdleExecutors(env.url);
  });

  async function run(artifactsDir: string): Promise<{ client: TestValidator; jobUuid: string }> {
    const client = await connectAsValidator({ url: env.url, validator: env.validatorA, minerHotkey: env.minerHotkey.ss58 });
    const script = `echo made > ${artifactsDir.replace(/[^A-Za-z0-9/]/g, '')}/a.txt; true`;
    const jobUuid = await sendShellJob(client, {
      executorClass: TEST_CLASS,
      image: IMAGE,
      timing: TIMING,
      script,
      request: { artifacts_dir: artifactsDir },
    });
    return { client, jobUuid };
  }

  it.each(['/volume', '/art:rshared', '/output/sub', 'relative', '/', '/x/../volume'])(
    'fails artifacts_dir %j as a job failure',
    async (dir) => {
      const { client, jobUuid } = await run(dir);
      const failed = await client.expect('V0JobFailedRequest', jobUuid, 30_000);
      expect(failed.stage).toBe('volume_download');
      expect(failed.message).toContain('artifacts_dir');
      expect(client.received.some((m) => m.message_type === 'V0HordeFailedRequest')).toBe(false);
      await client.close();
    },
    60_000,
  );

  it('still returns the artifacts of a plain artifacts_dir', async () => {
    const { client, jobUuid } = await run('/art');
    await client.expect('V0VolumesReadyRequest', jobUuid, 30_000);
    await client.expect('V0ExecutionDoneRequest', jobUuid, 30_000);
    const finished = await client.expect('V0JobFinishedRequest', jobUuid, 30_000);
    expect(Buffer.from(finished.artifacts?.['/art/a.txt'] ?? '', 'base64').toString()).toBe('made\n');
    await client.close();
  }, 60_000);
});
