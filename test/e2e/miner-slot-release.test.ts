/**
 * A miner with one executor takes the next job as soon as the previous one finished, not when the
 * previous executor's process has exited (its cleanup goes on in the background): real websockets,
 * real `horde executor` processes (process and docker runners), SQLite and PostgreSQL. Before the
 * fix the slot was held until the cleanup loop saw the process gone, and the request made right
 * after the result was declined `busy` with no excuse.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, testImage } from '../support/services.js';
import { startTestMiner, TEST_CLASS, type TestMiner } from '../support/miner-harness.js';
import { TestValidator } from '../support/test-validator.js';

const TIMING = {
  allowed_leeway: 5,
  download_time_limit: 10,
  execution_time_limit: 20,
  upload_time_limit: 10,
  streaming_start_time_limit: 5,
};

const cases = [
  { runner: 'process', dialect: 'sqlite' },
  { runner: 'process', dialect: 'postgres' },
  { runner: 'docker', dialect: 'sqlite' },
] as const;

describe.each(cases)('the slot of a finished job ($runner runner, $dialect store)', ({ runner, dialect }) => {
  let env: TestMiner;

  beforeAll(async () => {
    if (runner === 'docker') await docker().getImage(testImage()).inspect();
    env = await startTestMiner({ dialect, runner, executors: 1, processImages: { [testImage()]: ['env'] } });
  });
  afterAll(async () => {
    await env?.close();
  });

  /** Runs one job to its result on `validator`'s connection; resolves when V0JobFinishedRequest arrived. */
  async function runJob(validator: TestValidator, text: string): Promise<string> {
    const { jobUuid } = await validator.initialJobRequest({
      executor_class: TEST_CLASS,
      docker_image: testImage(),
      executor_timing: TIMING,
    });
    await validator.expect('V0AcceptJobRequest', jobUuid, 7_000);
    await validator.expect('V0ExecutorReadyRequest', jobUuid, 30_000);
    await validator.jobRequest({
      job_uuid: jobUuid,
      executor_class: TEST_CLASS,
      docker_image: testImage(),
      docker_run_options_preset: 'none',
      docker_run_cmd: ['sh', '-c', `echo ${text}`],
      env: {},
    });
    for (;;) {
      const message = await validator.next(30_000);
      if (message.message_type === 'V0JobFinishedRequest') {
        expect(message.docker_process_stdout).toContain(text);
        return jobUuid;
      }
      if (message.message_type === 'V0JobFailedRequest' || message.message_type === 'V0HordeFailedRequest') {
        throw new Error(`job failed: ${JSON.stringify(message)}`);
      }
    }
  }

  it('accepts the next job the moment the previous one finished, and runs it', async () => {
    const validator = await TestValidator.connect({ url: env.url, validator: env.validatorA, minerHotkey: env.minerHotkey.ss58 });
    await validator.expect('V0ExecutorManifestRequest');
    for (let round = 0; round < 3; round += 1) {
      // Each job is requested right after the previous result: the old executor is still exiting.
      await runJob(validator, `round-${round}`);
    }
    // The last row is written as its result goes out: it may land a moment after the result.
    await expect
      .poll(async () => (await env.store.db('miner_jobs').select('status')).map((r: { status: string }) => r.status), { timeout: 10_000 })
      .toEqual(['finished', 'finished', 'finished']);
    await validator.close();
  }, 120_000);
});
