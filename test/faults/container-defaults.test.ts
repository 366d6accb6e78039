/**
 * Safe defaults for job containers (#11 hole 5), end to end with the docker runner and default
 * settings: a job used to run as root with Docker's default capabilities, no memory cap and an
 * unbounded engine log. What the job itself sees must now say: no capabilities, no new
 * privileges, a memory cap, a pids limit; and the container the engine ran had a bounded log.
 * A job still writes its /output and artifacts, and `executor.jobLimits` overrides each default.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestMiner, TEST_CLASS, type TestMiner } from '../support/miner-harness.js';
import { testImage } from '../support/services.js';
import { connectAsValidator, sendShellJob } from './job-steps.js';
import { waitForIdleExecutors } from './miner-health.js';

const IMAGE = testImage();
const TIMING = {
  allowed_leeway: 5,
  download_time_limit: 10,
  execution_time_limit: 20,
  upload_time_limit: 10,
  streaming_start_time_limit: 5,
};
/** What the job reports about itself: capability sets, no_new_privs, its cgroup's limits, its uid. */
const PROBE = [
  'grep -E "^(CapEff|CapPrm|NoNewPrivs)" /proc/self/status',
  'echo "memory.max $(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"',
  'echo "pids.max $(cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max)"',
  'echo "uid $(id -u)"',
  'echo out > /output/out.txt && echo "output writable"',
  'echo art > /art/a.txt && echo "artifacts writable"',
].join('; ');

async function probe(env: TestMiner): Promise<Record<string, string>> {
  const client = await connectAsValidator({ url: env.url, validator: env.validatorA, minerHotkey: env.minerHotkey.ss58 });
  const jobUuid = await sendShellJob(client, {
    executorClass: TEST_CLASS,
    image: IMAGE,
    timing: TIMING,
    script: PROBE,
    request: { artifacts_dir: '/art' },
  });
  await client.expect('V0VolumesReadyRequest', jobUuid, 30_000);
  await client.expect('V0ExecutionDoneRequest', jobUuid, 30_000);
  const finished = await client.expect('V0JobFinishedRequest', jobUuid, 30_000);
  await client.close();
  const facts: Record<string, string> = {};
  for (const line of finished.docker_process_stdout.split('\n')) {
    const match = /^([A-Za-z.]+):?\s+(.*)$/.exec(line.trim());
    if (match) facts[match[1]!] = match[2]!.trim();
  }
  return facts;
}

describe('job container defaults (docker runner, default settings)', () => {
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

  it('runs the job without capabilities or new privileges, with a memory cap and a pids limit, and its output still works', async () => {
    const facts = await probe(env);
    expect(facts.CapEff).toBe('0000000000000000');
    expect(facts.CapPrm).toBe('0000000000000000');
    expect(facts.NoNewPrivs).toBe('1');
    expect(facts['memory.max']).toMatch(/^\d+$/);
    expect(facts['pids.max']).toBe('1024');
    expect(facts.output).toBe('writable');
    expect(facts.artifacts).toBe('writable');
  }, 90_000);
});

describe('job container defaults are overridable (executor.jobLimits)', () => {
  let env: TestMiner;

  beforeAll(async () => {
    env = await startTestMiner({
      dialect: 'sqlite',
      runner: 'docker',
      executor: {
        startupChecks: false,
        jobLimits: { pids: 300, memoryBytes: 256 * 1024 * 1024, dropCapabilities: false, user: '65534:65534' },
      },
    });
  }, 60_000);
  afterAll(async () => {
    await env?.close();
  });

  it('applies the configured limits and user instead', async () => {
    const facts = await probe(env);
    expect(facts['pids.max']).toBe('300');
    expect(facts['memory.max']).toBe(String(256 * 1024 * 1024));
    expect(facts.uid).toBe('65534');
    expect(facts.output).toBe('writable');
  }, 90_000);
});
