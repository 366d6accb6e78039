// The job runner an executor builds from its config, against the real test dockerd.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testImage } from '../../../../test/support/services.js';
import { executorSection } from '../../config/sections/executor.js';
import { silentLogger } from '../../logging/index.js';
import { runSpec } from '../runners/__tests__/run-spec.js';
import { createJobRunner, pinnedGpus } from './create-runner.js';

describe('createJobRunner', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'horde-runner-'));
    for (const d of ['volume', 'output', 'artifacts']) await mkdir(join(dir, d));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives every docker job the memory cap of executor.jobLimits', async () => {
    const settings = executorSection.parse({ jobLimits: { memoryBytes: 32 * 1024 * 1024 } });
    const runner = await createJobRunner({ kind: 'docker', limits: settings.jobLimits, logger: silentLogger() });
    // The shell keeps the command substitution in memory: 256 MiB against the 32 MiB cap.
    const outcome = await runner.run(
      runSpec(dir, testImage(), ['sh', '-c', 'x=$(head -c 268435456 /dev/zero | tr "\\0" a); echo survived']),
    );
    expect(outcome.oomKilled).toBe(true);
    expect(outcome.stdout).not.toContain('survived');
  });

  it('defaults to a process limit, dropped capabilities, a bounded log and a disk cap (the memory cap comes from the machine)', () => {
    expect(executorSection.parse({}).jobLimits).toEqual({
      pids: 1024,
      dropCapabilities: true,
      logBytes: 16 * 1024 * 1024,
      diskBytes: 20 * 1024 ** 3,
    });
  });

  it('reads the GPUs a manager pinned the executor to from CUDA_VISIBLE_DEVICES', () => {
    expect(pinnedGpus({ CUDA_VISIBLE_DEVICES: '1' })).toEqual(['1']);
    expect(pinnedGpus({ CUDA_VISIBLE_DEVICES: ' 0, 3 ' })).toEqual(['0', '3']);
    expect(pinnedGpus({ CUDA_VISIBLE_DEVICES: '' })).toBeUndefined();
    expect(pinnedGpus({})).toBeUndefined();
  });

  it("a pinned process runner's job sees only its GPU, even when the job's env names another", async () => {
    const runner = await createJobRunner({
      kind: 'process',
      processImages: { 'local/shell': ['sh', '-c'] },
      gpuDevices: ['2'],
      logger: silentLogger(),
    });
    const outcome = await runner.run(
      runSpec(dir, 'local/shell', ['echo "gpu=$CUDA_VISIBLE_DEVICES"'], { env: { CUDA_VISIBLE_DEVICES: '0,1,2,3' }, preset: 'nvidia_all' }),
    );
    expect(outcome.stdout).toBe('gpu=2\n');
  });
});
