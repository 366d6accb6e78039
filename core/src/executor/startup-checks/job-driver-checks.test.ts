// The startup checks inside the job driver: a failing or slow check ends the job with
// security_check_failed before V0ExecutorReadyRequest, a GPU job gets the toolkit check before it
// runs. The job runs through the process runner (the checks under test need no container).
import { mkdtemp, rm } from 'node:fs/promises';
import { testServersEgress } from '../../../../test/support/egress.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../logging/index.js';
import type { DockerRunOptionsPreset } from '../../contracts/index.js';
import { SystemClock } from '../../time/clock.js';
import type { ExecutorToMinerMessage } from '../../protocol/messages.js';
import { memoryJobChannel, TEST_JOB_UUID as JOB_UUID } from '../agent/__tests__/memory-channel.js';
import { ExecutorJobDriver, type JobChannel } from '../agent/job-driver.js';
import { ProcessJobRunner } from '../runners/process.js';
import { NvidiaToolkitCheck } from './nvidia-toolkit.js';
import { StartupCheckSuite } from './suite.js';
import { StartupCheckFailed, type StartupCheck } from './types.js';

const channelFor = (executorClass: string, preset: DockerRunOptionsPreset = 'none') => memoryJobChannel({ executorClass, preset });

describe('ExecutorJobDriver with startup checks', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'horde-driver-checks-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function driver(channel: JobChannel, checks: StartupCheckSuite, startupTimeLimitSeconds = 10): ExecutorJobDriver {
    return new ExecutorJobDriver({
      channel,
      runner: new ProcessJobRunner({ images: { 'local/shell': ['sh', '-c'] }, logger: silentLogger() }),
      clock: new SystemClock(),
      logger: silentLogger(),
      startupTimeLimitSeconds,
      volumeMaxBytes: 1_000_000,
      outputMaxBytes: 1_000_000,
      egress: testServersEgress(),
      machineSpecs: async () => null,
      workRoot: dir,
      startupChecks: checks,
    });
  }

  const types = (sent: ExecutorToMinerMessage[]) => sent.map((m) => m.message_type);

  it('reports a failing check as security_check_failed, names it, and never reports ready', async () => {
    const refusing: StartupCheck = {
      name: 'container_escape',
      proves: 'contained',
      run: async () => {
        throw new StartupCheckFailed('container_escape', 'a job could run commands as root on the host', {
          via: 'direct',
          hierarchy: 'memory',
        });
      },
    };
    const channel = channelFor('always_on.test');
    const outcome = await driver(channel, new StartupCheckSuite({ late: [refusing], logger: silentLogger() })).run();
    expect(outcome).toMatchObject({ status: 'horde_failed', reason: 'security_check_failed', stage: 'executor_startup' });
    expect(types(channel.sent)).toEqual(['V0HordeFailedRequest']);
    expect(channel.sent[0]).toEqual({
      message_type: 'V0HordeFailedRequest',
      job_uuid: JOB_UUID,
      reported_by: 'executor',
      reason: 'security_check_failed',
      message: 'startup check container_escape failed: a job could run commands as root on the host',
      context: { stage: 'executor_startup', check: 'container_escape', via: 'direct', hierarchy: 'memory' },
    });
  });

  it('a check still running when the startup limit passes fails the job, naming the check', async () => {
    const hanging: StartupCheck = {
      name: 'docker_engine',
      proves: 'answers',
      run: (context) => new Promise((_resolve, reject) => context.signal.addEventListener('abort', () => reject(new Error('aborted')))),
    };
    const channel = channelFor('always_on.test');
    const started = Date.now();
    const outcome = await driver(channel, new StartupCheckSuite({ early: [hanging], logger: silentLogger() }), 0.5).run();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(outcome).toMatchObject({ status: 'horde_failed', reason: 'security_check_failed' });
    expect(channel.sent).toEqual([
      expect.objectContaining({
        message_type: 'V0HordeFailedRequest',
        message: 'startup check docker_engine did not finish within the startup time limit (0.5 s)',
        context: { stage: 'executor_startup', check: 'docker_engine' },
      }),
    ]);
  });

  it('checks the GPU toolkit before a GPU job of a class not known as GPU, and fails it before the download', async () => {
    // The real check, with a PATH where no toolkit is installed (as on this machine).
    const gpu = new NvidiaToolkitCheck({ env: { PATH: dir } });
    const channel = channelFor('always_on.cpu.8c.16gb', 'nvidia_all');
    const outcome = await driver(channel, new StartupCheckSuite({ gpu, logger: silentLogger() })).run();
    expect(outcome).toMatchObject({ status: 'horde_failed', reason: 'security_check_failed', stage: 'volume_download' });
    expect(types(channel.sent)).toEqual(['V0ExecutorReadyRequest', 'V0HordeFailedRequest']);
    expect(channel.sent[1]).toMatchObject({
      message: expect.stringMatching(/^startup check nvidia_toolkit failed: the NVIDIA Container Toolkit is not installed/),
    });
  });

  it('checks the GPU toolkit in the startup stage for a GPU class', async () => {
    const gpu = new NvidiaToolkitCheck({ env: { PATH: dir } });
    const channel = channelFor('always_on.llm.a6000', 'nvidia_all');
    const outcome = await driver(channel, new StartupCheckSuite({ gpu, logger: silentLogger() })).run();
    expect(outcome).toMatchObject({ status: 'horde_failed', reason: 'security_check_failed', stage: 'executor_startup' });
    expect(types(channel.sent)).toEqual(['V0HordeFailedRequest']);
  });

  it('runs the job as before when every check passes', async () => {
    const passing: StartupCheck = { name: 'docker_engine', proves: 'answers', run: async () => ({ serverVersion: 'x' }) };
    const channel = channelFor('always_on.test');
    expect(await driver(channel, new StartupCheckSuite({ early: [passing], logger: silentLogger() })).run()).toEqual({
      status: 'finished',
    });
    expect(types(channel.sent)).toEqual([
      'V0ExecutorReadyRequest',
      'V0VolumesReadyRequest',
      'V0ExecutionDoneRequest',
      'V0JobFinishedRequest',
    ]);
  });
});
