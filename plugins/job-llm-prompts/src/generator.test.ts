import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore, downloadVolume, uploadOutputs } from '@horde/core/testkit';
import type { HardwareClass, JobResult, JobSpec, TrustedMinerRunner } from '@horde/core';
import { testServersEgress } from '../../../test/support/egress.js';
import { s3Config, uniqueBucketName } from '../../../test/support/services.js';
import { LlmPromptsGenerator } from './generator.js';

const run = promisify(execFile);
const logger = pino({ level: 'silent' });
const SOLVER = fileURLToPath(new URL('../job/solve.mjs', import.meta.url));
const llmClass: HardwareClass = {
  id: 'always_on.llm.a6000',
  description: 'llm',
  spinUpSeconds: 30,
  shortCode: 'L',
  resources: {},
  dockerPreset: 'nvidia_all',
  proof: { jobGenerators: ['llm-prompts'], maxJobSeconds: 150 },
};

/**
 * Runs a job spec the way an executor does with the process runner: download the volume from S3,
 * run `script` with the job's command, upload /output to S3.
 */
async function executeLocally(spec: JobSpec, script = SOLVER): Promise<JobResult> {
  const dir = await mkdtemp(join(tmpdir(), 'llm-job-'));
  try {
    const volumeDir = join(dir, 'volume');
    const outputDir = join(dir, 'output');
    await downloadVolume(spec.volume!, volumeDir, { maxBytes: 1 << 24, egress: testServersEgress(), logger });
    const started = performance.now();
    const { stdout, stderr } = await run('node', [script, ...spec.command], {
      env: { ...process.env, HORDE_VOLUME_DIR: volumeDir, HORDE_OUTPUT_DIR: outputDir },
    });
    const uploadResults = await uploadOutputs(spec.outputUpload!, outputDir, { maxBytes: 1 << 24, egress: testServersEgress(), logger });
    return { stdout, stderr, artifacts: {}, uploadResults, timeTookMs: performance.now() - started };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const trustedMiner: TrustedMinerRunner & { runs: number } = {
  runs: 0,
  async run(spec) {
    this.runs += 1;
    return executeLocally(spec);
  },
};

let store: S3ObjectStore;
beforeAll(async () => {
  store = new S3ObjectStore(s3Config(uniqueBucketName('llm')));
  await store.ensureBucket();
});
afterAll(async () => {
  for (const key of await store.list('')) await store.delete(key);
});

describe('llm-prompts generator (real S3, stand-in solver)', () => {
  it('gets ground truth from the trusted miner, then passes an honest miner that answers the whole series', async () => {
    const generator = new LlmPromptsGenerator({ objectStore: store, logger, seriesPerCycle: 2, promptsPerSeries: 30, samplesPerSeries: 2 });
    await generator.prepare({ cycle: 7, executorClasses: [llmClass], trustedMiner });
    expect(trustedMiner.runs).toBe(1);
    const job = await generator.generate({ jobUuid: 'job-honest', minerHotkey: '5Miner', executorClass: llmClass, cycle: 7 });
    expect(job.spec.command).toContain('--seed');
    expect(job.spec.volume).toMatchObject({ volume_type: 'single_file', relative_path: 'prompts.txt' });
    const verdict = await job.verify(await executeLocally(job.spec));
    expect(verdict).toMatchObject({ correct: true, inTime: true });
    // The miner answered all 30 prompts, not only the 2 sampled ones.
    const answers = JSON.parse((await store.get('llm-prompts/7/solved/job-honest.json')).toString('utf8'));
    expect(Object.keys(answers)).toHaveLength(30);
  });

  it('fails a miner that answers with another seed, and one that uploads nothing', async () => {
    const generator = new LlmPromptsGenerator({ objectStore: store, logger, seriesPerCycle: 1, promptsPerSeries: 20 });
    await generator.prepare({ cycle: 8, executorClasses: [llmClass], trustedMiner });
    const job = await generator.generate({ jobUuid: 'job-wrong-seed', minerHotkey: '5Miner', executorClass: llmClass, cycle: 8 });
    const seedAt = job.spec.command.indexOf('--seed') + 1;
    const wrongSeed = { ...job.spec, command: job.spec.command.map((arg, i) => (i === seedAt ? `${arg}1` : arg)) };
    expect(await job.verify(await executeLocally(wrongSeed))).toMatchObject({
      correct: false,
      details: expect.stringMatching(/differently/),
    });

    const silent = await generator.generate({ jobUuid: 'job-silent', minerHotkey: '5Miner', executorClass: llmClass, cycle: 8 });
    const verdict = await silent.verify({ stdout: '', stderr: '', artifacts: {}, uploadResults: {}, timeTookMs: 10 });
    expect(verdict).toMatchObject({ correct: false, details: expect.stringMatching(/not available/) });
  });

  it('refuses to make jobs without a trusted miner or before prepare, and only supports its classes', async () => {
    const generator = new LlmPromptsGenerator({ objectStore: store, logger });
    await expect(generator.prepare({ cycle: 9, executorClasses: [llmClass] })).rejects.toThrow(/needs a trusted miner/);
    await expect(generator.generate({ jobUuid: 'x', minerHotkey: 'm', executorClass: llmClass, cycle: 9 })).rejects.toMatchObject({
      code: 'HORDE_LLM_PROMPTS_UNAVAILABLE',
    });
    expect(generator.supports({ ...llmClass, id: 'always_on.test' })).toBe(false);
  });
});
