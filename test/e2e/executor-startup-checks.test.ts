/**
 * The executor's startup checks, end to end: real miner, real `horde executor` processes with the
 * docker runner on the test dockerd. A check that fails reaches the validator as
 * `V0HordeFailedRequest(security_check_failed)` reported by the executor, naming the check, and
 * no `V0ExecutorReadyRequest` comes before it; checks that pass let the job run as usual.
 *
 * The GPU toolkit is faked (there is no GPU here): an `nvidia-ctk` on the executor's PATH that
 * prints what the real one prints for `--version`.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutorHandle, ExecutorStartContext } from '../../core/src/contracts/index.js';
import { buildNoShellImage } from '../../core/src/executor/startup-checks/__tests__/images.js';
import { LocalExecutorManager } from '../../executor-managers/local/src/local-executor-manager.js';
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
const GPU_CLASS = 'always_on.llm.a6000';

/** The local manager, with a directory of fake toolkit programs first on the agent's PATH. */
class FakeToolkitManager extends LocalExecutorManager {
  constructor(
    options: ConstructorParameters<typeof LocalExecutorManager>[0],
    private readonly fakeBin: string,
  ) {
    super(options);
  }
  override async start(token: string, executorClass: string, ctx: ExecutorStartContext): Promise<ExecutorHandle> {
    const env = { ...ctx.launch.env, PATH: `${this.fakeBin}:${process.env.PATH ?? ''}` };
    return super.start(token, executorClass, { ...ctx, launch: { ...ctx.launch, env } });
  }
}

async function connect(env: TestMiner): Promise<TestValidator> {
  const client = await TestValidator.connect({ url: env.url, validator: env.validatorA, minerHotkey: env.minerHotkey.ss58 });
  await client.expect('V0ExecutorManifestRequest');
  return client;
}

describe('startup checks through the miner', () => {
  let fakeBin: string;
  let gpuMiner: TestMiner;

  async function fakeNvidiaCtk(version: string): Promise<void> {
    const path = join(fakeBin, 'nvidia-ctk');
    await writeFile(
      path,
      `#!/bin/sh\necho "NVIDIA Container Toolkit CLI version ${version}"\necho "commit: 9b69590c7428470a72f2ae05f826412976af1395"\n`,
    );
    await chmod(path, 0o755);
  }

  beforeAll(async () => {
    fakeBin = await mkdtemp(join(tmpdir(), 'horde-fake-toolkit-'));
    gpuMiner = await startTestMiner({
      dialect: 'sqlite',
      runner: 'docker',
      manager: (logger) => new FakeToolkitManager({ executorClass: GPU_CLASS, executors: 1, killGraceMs: 3_000, logger }, fakeBin),
    });
  });
  afterAll(async () => {
    await gpuMiner?.close();
    await rm(fakeBin, { recursive: true, force: true });
  });

  it('a GPU executor with nvidia-container-toolkit 1.17.3 fails the job with security_check_failed before it is ready', async () => {
    await fakeNvidiaCtk('1.17.3');
    const client = await connect(gpuMiner);
    const { jobUuid } = await client.initialJobRequest({ executor_class: GPU_CLASS, docker_image: testImage(), executor_timing: TIMING });
    await client.expect('V0AcceptJobRequest', jobUuid, 7_000);
    // Straight to the failure: no V0ExecutorReadyRequest comes first (expect() takes messages in order).
    const failure = await client.expect('V0HordeFailedRequest', jobUuid, 30_000);
    expect(failure).toMatchObject({ reported_by: 'executor', reason: 'security_check_failed' });
    expect(failure.message).toBe('startup check nvidia_toolkit failed: nvidia-ctk is version 1.17.3, older than 1.17.4 (CVE-2025-23359)');
    expect(failure.context).toMatchObject({ stage: 'executor_startup', check: 'nvidia_toolkit', 'nvidia-ctk': '1.17.3' });
    await client.close();
  }, 60_000);

  it('the same executor with toolkit 1.17.4 passes every check and runs the job', async () => {
    await fakeNvidiaCtk('1.17.4');
    // The previous executor has exited and freed the slot.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const health = (await (await fetch(`${gpuMiner.url}/healthz`)).json()) as { executors: Record<string, { used: number }> };
      if (Object.values(health.executors).every((u) => u.used === 0)) break;
      if (Date.now() > deadline) throw new Error('the previous executor still holds its slot');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const client = await connect(gpuMiner);
    const { jobUuid } = await client.initialJobRequest({ executor_class: GPU_CLASS, docker_image: testImage(), executor_timing: TIMING });
    await client.expect('V0AcceptJobRequest', jobUuid, 7_000);
    await client.expect('V0ExecutorReadyRequest', jobUuid, 30_000);
    await client.jobRequest({
      job_uuid: jobUuid,
      executor_class: GPU_CLASS,
      docker_image: testImage(),
      docker_run_options_preset: 'none', // no GPU here to give the container
      docker_run_cmd: ['sh', '-c', 'echo checked'],
      env: {},
    });
    await client.expect('V0VolumesReadyRequest', jobUuid);
    await client.expect('V0ExecutionDoneRequest', jobUuid, 20_000);
    expect((await client.expect('V0JobFinishedRequest', jobUuid, 20_000)).docker_process_stdout).toBe('checked\n');
    await client.close();
  }, 60_000);
});

describe('the container escape check through the miner', () => {
  let miner: TestMiner;
  let noShell: string;

  beforeAll(async () => {
    noShell = await buildNoShellImage(docker());
    // A check image the probe cannot run in: the check must fail rather than pass unexamined.
    miner = await startTestMiner({ dialect: 'sqlite', runner: 'docker', executor: { startupCheckImage: noShell } });
  }, 120_000);
  afterAll(async () => {
    await miner?.close();
  });

  it('reports a probe that cannot show containment as security_check_failed naming container_escape', async () => {
    const client = await connect(miner);
    const { jobUuid } = await client.initialJobRequest({ executor_class: TEST_CLASS, docker_image: testImage(), executor_timing: TIMING });
    await client.expect('V0AcceptJobRequest', jobUuid, 7_000);
    const failure = await client.expect('V0HordeFailedRequest', jobUuid, 30_000);
    expect(failure).toMatchObject({ reported_by: 'executor', reason: 'security_check_failed' });
    expect(failure.message).toMatch(
      /^startup check container_escape failed: the escape probe gave no verdict in image localhost\/horde-no-shell:test/,
    );
    expect(failure.context).toMatchObject({ stage: 'executor_startup', check: 'container_escape', image: noShell });
    // The probe's container is gone.
    const left = await docker().listContainers({ all: true, filters: { name: [`horde-${jobUuid}-escape-check`] } });
    expect(left).toEqual([]);
    await client.close();
  }, 60_000);
});
