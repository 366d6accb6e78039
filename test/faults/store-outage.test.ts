/**
 * No dropped executor messages during a store outage (#11 hole 8): with PostgreSQL restarted under
 * a running miner, a job's "executor ready" and final messages were logged and dropped, the
 * validator timed out and the row stayed `waiting_for_executor` forever. The server here is a
 * cluster of the test's own, stopped (as a crash: immediate) while the job runs: every message
 * must reach the validator, and once the server is back the row ends final, without restarting
 * the miner, which then serves the next job.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestMiner, TEST_CLASS, type TestMiner } from '../support/miner-harness.js';
import { testImage } from '../support/services.js';
import type { TestValidator } from '../support/test-validator.js';
import { connectAsValidator, sendShellJob } from './job-steps.js';
import { OwnPostgres } from './own-postgres.js';
import { waitUntil } from './processes.js';

const IMAGE = testImage();
const TIMING = {
  allowed_leeway: 5,
  download_time_limit: 20,
  execution_time_limit: 20,
  upload_time_limit: 10,
  streaming_start_time_limit: 5,
};

describe('PostgreSQL restarted under a running miner', () => {
  let pg: OwnPostgres;
  let env: TestMiner;

  beforeAll(async () => {
    pg = await OwnPostgres.create();
    env = await startTestMiner({ dialect: 'postgres', postgresUrl: pg.url, runner: 'process', processImages: { [IMAGE]: ['env'] } });
  }, 90_000);
  afterAll(async () => {
    try {
      pg?.start();
    } catch {
      // running already
    }
    await env?.close();
    pg?.destroy();
  });

  async function runJob(client: TestValidator, script: string, during?: { afterAccept: () => void }): Promise<string> {
    const jobUuid = await sendShellJob(client, {
      executorClass: TEST_CLASS,
      image: IMAGE,
      timing: TIMING,
      script,
      ...(during ? { afterAccept: during.afterAccept } : {}),
    });
    await client.expect('V0VolumesReadyRequest', jobUuid, 30_000);
    await client.expect('V0ExecutionDoneRequest', jobUuid, 30_000);
    expect((await client.expect('V0JobFinishedRequest', jobUuid, 30_000)).docker_process_stdout).toContain('done');
    return jobUuid;
  }

  it('relays every executor message while the store is down and records the final status once it is back', async () => {
    const client = await connectAsValidator({ url: env.url, validator: env.validatorA, minerHotkey: env.minerHotkey.ss58 });
    // The store goes down right after the accept: ready, volumes, execution and the final result all come during the outage.
    const jobUuid = await runJob(client, 'echo done', { afterAccept: () => pg.stop('immediate') });
    pg.start();
    await waitUntil(
      'the job row is final',
      async () => {
        const row = (await env.store
          .db('miner_jobs')
          .where({ job_uuid: jobUuid })
          .first()
          .catch(() => null)) as { status?: string } | null;
        return row?.status === 'finished';
      },
      30_000,
    );
    // The miner reconnected by itself and serves the next job, row and all (the row is written as
    // the result goes out, so it may land a moment after the result).
    const next = await runJob(client, 'echo done again');
    await expect
      .poll(async () => ((await env.store.db('miner_jobs').where({ job_uuid: next }).first()) as { status: string }).status, {
        timeout: 10_000,
      })
      .toBe('finished');
    await client.close();
  }, 120_000);
});
