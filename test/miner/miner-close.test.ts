/**
 * Closing a miner with jobs still waiting for their executors: the pool kills the executors, each
 * kill fails its job, and those failures are in the store before `close()` returns (before, they
 * were written after it, often to a store already closed, and lost).
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../core/src/store/index.js';
import type { ExecutorHandle, ExecutorManager, ExecutorStatus } from '../../core/src/contracts/index.js';
import { startTestMiner, TEST_CLASS, type TestMiner } from '../support/miner-harness.js';
import { testImage } from '../support/services.js';
import { TestValidator } from '../support/test-validator.js';

/** Executors that start (as far as the contract goes) and never connect: machines still booting. */
class SlowBootingExecutors implements ExecutorManager {
  private readonly running = new Set<string>();
  async manifest() {
    return { [TEST_CLASS]: 200 };
  }
  async start(token: string): Promise<ExecutorHandle> {
    this.running.add(token);
    return { id: token };
  }
  async poll(handle: ExecutorHandle): Promise<ExecutorStatus> {
    return this.running.has(handle.id) ? { state: 'running' } : { state: 'exited', exitCode: null, reason: 'killed' };
  }
  async kill(handle: ExecutorHandle): Promise<void> {
    this.running.delete(handle.id);
  }
}

const TIMING = {
  allowed_leeway: 5,
  download_time_limit: 10,
  execution_time_limit: 10,
  upload_time_limit: 10,
  streaming_start_time_limit: 5,
};

describe('closing a miner with open jobs', () => {
  let env: TestMiner;
  afterAll(async () => {
    // The test closed the miner and its store; the rest (chain, data dir) goes here.
    await env?.close().catch(() => undefined);
  });

  it('records every open job as failed before close() returns', async () => {
    env = await startTestMiner({ dialect: 'sqlite', runner: 'process', manager: () => new SlowBootingExecutors() });
    const validator = await TestValidator.connect({ url: env.url, validator: env.validatorA, minerHotkey: env.minerHotkey.ss58 });
    await validator.expect('V0ExecutorManifestRequest');
    const jobs: string[] = [];
    for (let i = 0; i < 100; i++) {
      const { jobUuid } = await validator.initialJobRequest({
        executor_class: TEST_CLASS,
        docker_image: testImage(),
        executor_timing: TIMING,
      });
      await validator.expect('V0AcceptJobRequest', jobUuid);
      jobs.push(jobUuid);
    }
    // As a process does on shutdown: the miner, then its store at once.
    await env.miner.close();
    await env.store.close();
    const reopened = await openStore({ client: 'sqlite', filename: join(env.dataDir, 'horde.sqlite') });
    const rows = await reopened.db('miner_jobs').whereIn('job_uuid', jobs).select('job_uuid', 'status');
    await reopened.close();
    expect(rows).toHaveLength(jobs.length);
    expect(rows.filter((row: { status: string }) => row.status !== 'failed')).toEqual([]);
  });
});
