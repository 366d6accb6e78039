// Which checks an executor gets, from its runner and settings; the docker ones on the test dockerd.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { docker, testImage } from '../../../../test/support/services.js';
import { DockerJobRunner } from '../runners/docker.js';
import { ProcessJobRunner } from '../runners/process.js';
import { createStartupChecks } from './create.js';
import { StartupCheckSuite } from './suite.js';
import type { CheckContext } from './types.js';

/** A logger whose lines the test can read. */
function recordingLogger(): { logger: pino.Logger; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
  return { logger, lines };
}

describe('createStartupChecks', () => {
  let workDir: string;
  beforeEach(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'horde-create-checks-'));
  });
  afterEach(async () => {
    await rm(workDir, { recursive: true, force: true });
  });
  const context = (logger: pino.Logger): CheckContext => ({
    jobUuid: `c-${Date.now().toString(36)}`,
    executorClass: 'always_on.llm.a6000',
    image: testImage(),
    timeLeftMs: () => 30_000,
    signal: new AbortController().signal,
    workDir,
    logger,
  });

  it('gives the process runner no checks, and says so in one line', async () => {
    const { logger, lines } = recordingLogger();
    const suite = (await createStartupChecks(
      new ProcessJobRunner({ images: {}, logger }),
      { enabled: ['docker_engine', 'container_escape', 'nvidia_toolkit'] },
      logger,
    )) as StartupCheckSuite;
    expect(suite.names).toEqual([]);
    expect(lines.map((l) => l.msg)).toEqual([
      expect.stringMatching(/^startup checks do not apply: the process runner runs jobs as local processes/),
    ]);
    await suite.beforeImage(context(logger));
    await suite.afterImage(context(logger));
  });

  it('gives the docker runner the enabled checks, in order', async () => {
    const { logger } = recordingLogger();
    const runner = new DockerJobRunner({ docker: docker(), logger });
    const all = (await createStartupChecks(
      runner,
      { enabled: ['container_escape', 'nvidia_toolkit', 'docker_engine'] },
      logger,
    )) as StartupCheckSuite;
    expect(all.names).toEqual(['docker_engine', 'nvidia_toolkit', 'container_escape']);
    const some = (await createStartupChecks(runner, { enabled: ['docker_engine'] }, logger)) as StartupCheckSuite;
    expect(some.names).toEqual(['docker_engine']);
  });

  it('with checks disabled, runs none and warns that this is for local testing', async () => {
    const { logger, lines } = recordingLogger();
    const suite = (await createStartupChecks(
      new DockerJobRunner({ docker: docker(), logger }),
      { enabled: false },
      logger,
    )) as StartupCheckSuite;
    expect(suite.names).toEqual([]);
    expect(lines).toEqual([expect.objectContaining({ level: 40, msg: expect.stringMatching(/disabled .* for local testing only/) })]);
  });

  it('fails container_escape when the configured check image cannot be had', async () => {
    const { logger } = recordingLogger();
    const runner = new DockerJobRunner({ docker: docker(), logger });
    const suite = await createStartupChecks(
      runner,
      { enabled: ['container_escape'], image: 'localhost/horde-no-such-check-image:1' },
      logger,
    );
    const error = await suite.afterImage(context(logger)).catch((e: unknown) => e);
    expect(error).toMatchObject({
      check: 'container_escape',
      message: expect.stringMatching(/the check image localhost\/horde-no-such-check-image:1 is not available/),
    });
  });

  it('runs the whole docker suite on the test engine for a non-GPU class', async () => {
    const { logger, lines } = recordingLogger();
    const suite = await createStartupChecks(
      new DockerJobRunner({ docker: docker(), logger }),
      { enabled: ['docker_engine', 'container_escape', 'nvidia_toolkit'] },
      logger,
    );
    const ctx = { ...context(logger), executorClass: 'always_on.test' };
    await suite.beforeImage(ctx);
    await suite.afterImage(ctx);
    const passed = lines.filter((l) => l.msg.startsWith('startup check passed'));
    expect(passed).toEqual([
      expect.objectContaining({ check: 'docker_engine' }),
      expect.objectContaining({ check: 'container_escape', userNamespaces: false }),
    ]);
  });
});
