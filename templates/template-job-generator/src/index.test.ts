import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  JOB_GENERATOR,
  PluginError,
  type HardwareClass,
  type JobResult,
} from '@horde/core';
import { registerPluginForTest } from '@horde/core/testkit';
import plugin, { expectedAnswer, GENERATOR_NAME } from './index.js';

/** Registers the plugin the way a horde process does: apiRange and config are checked first. */
const load = (config: Record<string, unknown> = {}) => registerPluginForTest(plugin, { config });

async function loadGenerator(config: Record<string, unknown> = {}) {
  const [generator] = (await load(config)).all(JOB_GENERATOR);
  if (!generator) throw new Error('the plugin provided no job generator');
  return generator;
}

const testClass: HardwareClass = {
  id: 'always_on.test',
  description: 'a machine for testing',
  spinUpSeconds: 3,
  shortCode: 'T',
  resources: {},
  dockerPreset: 'none',
  proof: { jobGenerators: [GENERATOR_NAME], maxJobSeconds: 10 },
};
const gpuClass: HardwareClass = { ...testClass, id: 'always_on.gpu-24gb', shortCode: 'A', dockerPreset: 'nvidia_all' };

const request = { jobUuid: '00000000-0000-4000-8000-000000000001', minerHotkey: 'miner', executorClass: testClass, cycle: 1 };

function result(stdout: string, timeTookMs = 1_000): JobResult {
  return { stdout, stderr: '', artifacts: {}, uploadResults: {}, timeTookMs };
}

describe('{{packageName}}', () => {
  it('declares the version in package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(plugin.version).toBe(pkg.version);
  });

  it('supports the configured executor classes only', async () => {
    const generator = await loadGenerator();
    expect(generator.name).toBe(GENERATOR_NAME);
    expect(generator.supports(testClass)).toBe(true);
    expect(generator.supports(gpuClass)).toBe(false);
    expect((await loadGenerator({ executorClasses: [gpuClass.id] })).supports(gpuClass)).toBe(true);
  });

  it('makes a busybox shell job for the requested class, with a fresh nonce each time', async () => {
    const generator = await loadGenerator({ rounds: 7, timeLimitSeconds: 4 });
    const first = await generator.generate(request);
    const second = await generator.generate(request);
    expect(first.spec).toMatchObject({
      executorClass: 'always_on.test',
      image: 'busybox:latest',
      env: { HORDE_ROUNDS: '7' },
      dockerRunOptionsPreset: 'none',
      timing: { executionTimeLimitSeconds: 4 },
    });
    expect(first.spec.command.slice(0, 2)).toEqual(['sh', '-c']);
    expect(first.spec.env.HORDE_NONCE).toMatch(/^[0-9a-f]{32}$/);
    expect(second.spec.env.HORDE_NONCE).not.toBe(first.spec.env.HORDE_NONCE);
  });

  it('accepts the right digest in time, and judges wrong, missing and late answers', async () => {
    const job = await (await loadGenerator({ rounds: 3, timeLimitSeconds: 10 })).generate(request);
    const answer = expectedAnswer(job.spec.env.HORDE_NONCE ?? '', 3);
    expect(await job.verify(result(`${answer}\n`))).toMatchObject({ correct: true, inTime: true });
    expect(await job.verify(result(`progress...\n${answer}\n\n`))).toMatchObject({ correct: true });
    expect(await job.verify(result('0'.repeat(64)))).toMatchObject({ correct: false, details: expect.stringContaining('wrong digest') });
    expect(await job.verify(result(''))).toMatchObject({ correct: false, details: expect.stringContaining('no digest') });
    expect(await job.verify(result(answer, 10_001))).toMatchObject({ correct: true, inTime: false });
  });

  it('refuses a bad config value, naming the key', async () => {
    await expect(load({ rounds: 0 })).rejects.toThrow(PluginError);
    await expect(load({ rounds: 0 })).rejects.toThrow(/rounds/);
  });
});
