/**
 * A job-started receipt that does not verify (#11 "smaller"): it was dropped, but the job was
 * still accepted and run, so a validator could get work done with nothing the miner can show for
 * it later. The job must be declined with `invalid_signature`, and no executor started.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestMiner, TEST_CLASS, type TestMiner } from '../support/miner-harness.js';
import { testImage } from '../support/services.js';
import { TestValidator } from '../support/test-validator.js';
import { minerHealth } from './miner-health.js';

const IMAGE = testImage();
const TIMING = {
  allowed_leeway: 5,
  download_time_limit: 10,
  execution_time_limit: 10,
  upload_time_limit: 10,
  streaming_start_time_limit: 5,
};

describe('job-started receipts that do not hold', () => {
  let env: TestMiner;

  beforeAll(async () => {
    env = await startTestMiner({ dialect: 'sqlite', runner: 'process', processImages: { [IMAGE]: ['env'] } });
  }, 60_000);
  afterAll(async () => {
    await env?.close();
  });

  async function sendWith(
    mutate: (receipt: ReturnType<TestValidator['startedReceipt']>, jobUuid: string) => { payload: unknown; signature: string },
  ) {
    const client = await TestValidator.connect({ url: env.url, validator: env.validatorA, minerHotkey: env.minerHotkey.ss58 });
    await client.expect('V0ExecutorManifestRequest');
    const jobUuid = randomUUID();
    const { payload, signature } = mutate(client.startedReceipt(jobUuid, TEST_CLASS), jobUuid);
    await client.send({
      message_type: 'V0InitialJobRequest',
      job_uuid: jobUuid,
      executor_class: TEST_CLASS,
      docker_image: IMAGE,
      executor_timing: TIMING,
      job_started_receipt_payload: payload as never,
      job_started_receipt_signature: signature,
    });
    return { client, jobUuid };
  }

  it('declines a job whose started receipt signature does not verify', async () => {
    const { client, jobUuid } = await sendWith((receipt) => {
      const sig = receipt.validator_signature;
      return { payload: receipt.payload, signature: `${sig.slice(0, -2)}${sig.endsWith('00') ? '11' : '00'}` };
    });
    expect(await client.expect('V0DeclineJobRequest', jobUuid)).toMatchObject({ reason: 'invalid_signature' });
    expect((await minerHealth(env.url)).executors[TEST_CLASS]?.used).toBe(0);
    expect(await env.store.db('miner_jobs').where({ job_uuid: jobUuid }).first()).toBeUndefined();
    await client.close();
  });

  it("declines a job that brings another job's valid receipt", async () => {
    const { client, jobUuid } = await sendWith(() => {
      const other = client0.startedReceipt(randomUUID(), TEST_CLASS);
      return { payload: other.payload, signature: other.validator_signature };
    });
    expect(await client.expect('V0DeclineJobRequest', jobUuid)).toMatchObject({ reason: 'invalid_signature' });
    await client.close();
  });

  let client0: TestValidator;
  beforeAll(async () => {
    client0 = await TestValidator.connect({ url: env.url, validator: env.validatorA, minerHotkey: env.minerHotkey.ss58 });
  });
  afterAll(async () => {
    await client0?.close();
  });
});
