/**
 * The escape probe in a trusted image (`executor.startupCheckImage`), kept per boot, through a real
 * miner: each job's `horde executor` is a process of its own (docker runner, test dockerd), so the
 * pass the first one finds must reach the second through the cache directory beside the job
 * directories, and nothing else. Without a trusted image every executor runs the probe itself.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testImage } from '../support/services.js';
import { startTestMiner, TEST_CLASS, type TestMiner } from '../support/miner-harness.js';
import { TestValidator } from '../support/test-validator.js';

const TIMING = {
  allowed_leeway: 5,
  download_time_limit: 10,
  execution_time_limit: 20,
  upload_time_limit: 10,
  streaming_start_time_limit: 5,
};

/** The miner's log (its executors' lines are forwarded into it), as objects. */
function recordingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
  );
  return { logger, lines };
}

async function runJob(miner: TestMiner): Promise<string> {
  // The previous executor frees its slot once it has exited.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const health = (await (await fetch(`${miner.url}/healthz`)).json()) as { executors: Record<string, { used: number }> };
    if (Object.values(health.executors).every((u) => u.used === 0)) break;
    if (Date.now() > deadline) throw new Error('the previous executor still holds its slot');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const client = await TestValidator.connect({ url: miner.url, validator: miner.validatorA, minerHotkey: miner.minerHotkey.ss58 });
  try {
    await client.expect('V0ExecutorManifestRequest');
    const { jobUuid } = await client.initialJobRequest({ executor_class: TEST_CLASS, docker_image: testImage(), executor_timing: TIMING });
    await client.expect('V0AcceptJobRequest', jobUuid, 7_000);
    await client.expect('V0ExecutorReadyRequest', jobUuid, 30_000);
    await client.jobRequest({
      job_uuid: jobUuid,
      executor_class: TEST_CLASS,
      docker_image: testImage(),
      docker_run_options_preset: 'none',
      docker_run_cmd: ['sh', '-c', 'echo ran'],
      env: {},
    });
    await client.expect('V0VolumesReadyRequest', jobUuid);
    await client.expect('V0ExecutionDoneRequest', jobUuid, 20_000);
    expect((await client.expect('V0JobFinishedRequest', jobUuid, 20_000)).docker_process_stdout).toBe('ran\n');
    return jobUuid;
  } finally {
    await client.close();
  }
}

const probePasses = (lines: Array<Record<string, unknown>>, jobUuid: string) =>
  lines.filter(
    (line) => line.jobUuid === jobUuid && line.check === 'container_escape' && String(line.msg).startsWith('startup check passed'),
  );

describe('the escape probe kept per boot, across executor processes', () => {
  let workDir: string;
  let trusted: TestMiner;
  let perJob: TestMiner;
  const trustedLog = recordingLogger();
  const perJobLog = recordingLogger();

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'horde-e2e-kept-'));
    trusted = await startTestMiner({
      dialect: 'sqlite',
      runner: 'docker',
      logger: trustedLog.logger,
      executor: { startupCheckImage: testImage(), workDir },
    });
    perJob = await startTestMiner({ dialect: 'sqlite', runner: 'docker', logger: perJobLog.logger, executor: { workDir } });
  }, 60_000);
  afterAll(async () => {
    await trusted?.close();
    await perJob?.close();
    await rm(workDir, { recursive: true, force: true });
  });

  it('with a trusted image, the first executor runs the probe and the next one takes its pass', async () => {
    const first = await runJob(trusted);
    const second = await runJob(trusted);
    expect(probePasses(trustedLog.lines, first)).toMatchObject([{ cached: false, image: testImage() }]);
    expect(probePasses(trustedLog.lines, second)).toMatchObject([{ cached: true, image: testImage() }]);
    const [cacheDir] = (await readdir(workDir)).filter((name) => name.startsWith('horde-startup-checks-'));
    expect(cacheDir).toBeDefined();
    expect((await stat(join(workDir, cacheDir!))).mode & 0o777).toBe(0o700);
  }, 90_000);

  it("without one, every executor runs the probe in the job's image, whatever was kept for the trusted image", async () => {
    const jobs = [await runJob(perJob), await runJob(perJob)];
    for (const jobUuid of jobs) {
      const [pass] = probePasses(perJobLog.lines, jobUuid);
      expect(pass).toMatchObject({ image: testImage() });
      expect(pass).not.toHaveProperty('cached');
    }
  }, 90_000);
});
