import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { downloadVolume } from '@horde/core/testkit';
import type { GeneratedJob, HardwareClass } from '@horde/core';
import { testServersEgress } from '../../../test/support/egress.js';
import { HashCrackGenerator } from './generator.js';

const run = promisify(execFile);
const jobDir = fileURLToPath(new URL('../job/', import.meta.url));

function hardwareClass(id: string, dockerPreset: 'none' | 'nvidia_all' = 'none'): HardwareClass {
  return {
    id,
    description: id,
    spinUpSeconds: 3,
    shortCode: 'T',
    resources: {},
    dockerPreset,
    proof: { jobGenerators: ['hash-crack'], maxJobSeconds: 30 },
  };
}

function gpuClass(id: string, models: string[]): HardwareClass {
  return { ...hardwareClass(id, 'nvidia_all'), resources: { gpu: { count: 1, vramGb: 24, models } } };
}

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** Unpacks the job's volume as an executor would and runs `script` on it like the process runner. */
async function runJob(job: GeneratedJob, script: string, extraArgs: string[] = []) {
  const volumeDir = await mkdtemp(join(tmpdir(), 'hash-crack-test-'));
  dirs.push(volumeDir);
  await downloadVolume(job.spec.volume!, volumeDir, { maxBytes: 1 << 20, egress: testServersEgress(), logger: pino({ level: 'silent' }) });
  const started = performance.now();
  const { stdout, stderr } = await run('node', [join(jobDir, script), ...job.spec.command, ...extraArgs], {
    env: { ...process.env, HORDE_VOLUME_DIR: volumeDir },
  });
  return { stdout, stderr, artifacts: {}, uploadResults: {}, timeTookMs: performance.now() - started };
}

describe('hash-crack generator', () => {
  const generator = new HashCrackGenerator();
  const testClass = hardwareClass('always_on.test');

  it('makes a job that the real crack script solves, and judges it correct and in time', async () => {
    const job = await generator.generate({ jobUuid: 'j1', minerHotkey: '5Miner', executorClass: testClass, cycle: 3 });
    expect(job.spec).toMatchObject({
      executorClass: 'always_on.test',
      image: 'horde/job-hash-crack:1',
      volumeInInitialRequest: true,
      dockerRunOptionsPreset: 'none',
    });
    expect(job.spec.command[0]).toBe('--key');
    const result = await runJob(job, 'crack.mjs');
    const verdict = await job.verify(result);
    expect(verdict).toMatchObject({ correct: true, inTime: true });
    expect(result.timeTookMs).toBeLessThan(5_000);
  });

  it('solves the same job with several worker threads', async () => {
    const generator = new HashCrackGenerator({
      classes: {
        'always_on.test': { algorithms: ['sha512', 'sha256'], alphabet: 'abcdefghijklmnopqrstuvwxyz', length: 4, hashesPerBatch: 3 },
      },
    });
    const job = await generator.generate({ jobUuid: 'j2', minerHotkey: '5Miner', executorClass: testClass, cycle: 3 });
    expect(await job.verify(await runJob(job, 'crack.mjs', ['--workers', '2']))).toMatchObject({ correct: true });
  });

  it('fails the cheat script, which prints a well-formed but made-up answer', async () => {
    const job = await generator.generate({ jobUuid: 'j3', minerHotkey: '5Miner', executorClass: testClass, cycle: 3 });
    const result = await runJob(job, 'cheat.mjs');
    expect(result.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    const verdict = await job.verify(result);
    expect(verdict.correct).toBe(false);
    expect(verdict.details).toMatch(/wrong answer/);
  });

  it('fails a job whose key was tampered with: batch 0 cannot be decrypted', async () => {
    const job = await generator.generate({ jobUuid: 'j4', minerHotkey: '5Miner', executorClass: testClass, cycle: 3 });
    const tampered = { ...job, spec: { ...job.spec, command: ['--key', 'not-the-key'] } };
    await expect(runJob(tampered, 'crack.mjs')).rejects.toThrow(/Unsupported state or unable to authenticate data/);
  });

  it('judges a correct answer that came too late as not in time', async () => {
    const job = await generator.generate({ jobUuid: 'j5', minerHotkey: '5Miner', executorClass: testClass, cycle: 3 });
    const result = await runJob(job, 'crack.mjs');
    expect(await job.verify({ ...result, timeTookMs: 15_001 })).toMatchObject({ correct: true, inTime: false });
  });

  it('draws a new challenge for every job', async () => {
    const a = await generator.generate({ jobUuid: 'a', minerHotkey: '5Miner', executorClass: testClass, cycle: 1 });
    const b = await generator.generate({ jobUuid: 'b', minerHotkey: '5Miner', executorClass: testClass, cycle: 1 });
    expect(a.spec.command).not.toEqual(b.spec.command);
    expect(a.spec.volume).not.toEqual(b.spec.volume);
  });

  it('sizes classes so the faster classes get harder jobs and GPU classes use the hashcat image', () => {
    const test = generator.paramsFor(testClass);
    const cpu = generator.paramsFor(hardwareClass('always_on.cpu.8c.16gb'));
    const gpu = generator.paramsFor(gpuClass('always_on.gpu-24gb', ['RTX 3090', 'RTX 4090']));
    const space = (p: { alphabet: string; length: number }) => p.alphabet.length ** p.length;
    expect(space(cpu)).toBeGreaterThan(100 * space(test));
    expect(space(gpu)).toBeGreaterThan(100 * space(cpu));
    expect(gpu.image).toBe('horde/job-hash-crack:1-gpu');
    expect(generator.supports(hardwareClass('some.unknown.class'))).toBe(false);
    // A GPU class naming a card the rate table lacks cannot be sized, so it is not supported.
    expect(generator.supports(gpuClass('always_on.gpu.mystery', ['RTX 9999']))).toBe(false);
    expect(
      new HashCrackGenerator({ rates: { 'RTX 9999': { sha256: 5e10, sha384: 2e10, sha512: 2e10 } } }).supports(
        gpuClass('always_on.gpu.mystery', ['RTX 9999']),
      ),
    ).toBe(true);
  });

  it('sizes a GPU class for the slowest card it accepts, within the 53 s bound', () => {
    const both = generator.paramsFor(gpuClass('always_on.gpu-24gb', ['RTX 3090', 'RTX 4090']));
    const only4090 = generator.paramsFor(gpuClass('always_on.gpu.4090', ['RTX 4090']));
    const space = (p: { alphabet: string; length: number }) => p.alphabet.length ** p.length;
    expect(space(only4090)).toBeGreaterThan(2 * space(both));
    for (const params of [both, only4090]) {
      expect(params.timeLimitSeconds).toBeLessThanOrEqual(53);
      expect(params.timeLimitSeconds).toBeGreaterThan(40);
      expect(params.hashesPerBatch).toBe(20);
    }
  });
  it('refuses parameters that cannot make a challenge, naming the class', () => {
    expect(
      () =>
        new HashCrackGenerator({ classes: { 'always_on.test': { algorithms: ['sha256'], alphabet: 'ab', length: 1, hashesPerBatch: 2 } } }),
    ).toThrow(/classes\.always_on\.test: hashesPerBatch/);
  });
});

describe("hash-crack sized from a card's rate, solved by throttled solvers", () => {
  // Two simulated cards, 1.6 times apart (more than the 1.25 margin), at rates a CPU thread reaches
  // easily; the bound is scaled down with them so the test takes seconds, not a GPU.
  const FAST = 40_000;
  const SLOW = FAST / 1.6;
  const rate = (hashes: number) => ({ sha256: hashes, sha384: hashes, sha512: hashes });
  const generator = new HashCrackGenerator({
    rates: { 'SIM FAST': rate(FAST), 'SIM SLOW': rate(SLOW) },
    sizing: { maxSeconds: 6, overheadSeconds: 0.5, margin: 1.25, hashesPerBatch: 20 },
  });
  const fastClass = gpuClass('always_on.gpu.sim-fast', ['SIM FAST']);

  it("is solved within its bound at the declared card's rate, and missed at the next class's rate", { timeout: 60_000 }, async () => {
    const params = generator.paramsFor(fastClass);
    expect(params.timeLimitSeconds).toBeLessThanOrEqual(6);
    const honest = await generator.generate({ jobUuid: 'fast', minerHotkey: '5Miner', executorClass: fastClass, cycle: 1 });
    const honestVerdict = await honest.verify(await runJob(honest, 'crack.mjs', ['--max-rate', String(FAST)]));
    expect(honestVerdict).toMatchObject({ correct: true, inTime: true });

    const slower = await generator.generate({ jobUuid: 'slow', minerHotkey: '5Miner', executorClass: fastClass, cycle: 1 });
    const slowVerdict = await slower.verify(await runJob(slower, 'crack.mjs', ['--max-rate', String(SLOW)]));
    // The slower card gets every hash right, too late.
    expect(slowVerdict).toMatchObject({ correct: true, inTime: false });
  });
});

// The GPU image's solver. It needs the hashcat binary (and an OpenCL runtime: pocl on a CPU-only
// machine, `apt-get install hashcat pocl-opencl-icd ocl-icd-libopencl1`), so it runs only where
// hashcat is installed (.ci/run installs it, so in CI a missing hashcat fails the test rather than
// skipping it); the first run compiles hashcat's kernels (~15 s here).
const hashcatInstalled = await run('hashcat', ['--version']).then(
  () => true,
  () => false,
);
describe.runIf(hashcatInstalled || Boolean(process.env['CI']))('hash-crack with the hashcat solver', () => {
  it('solves a chained job through hashcat', { timeout: 240_000 }, async () => {
    const generator = new HashCrackGenerator({
      classes: { 'always_on.test': { algorithms: ['sha256', 'sha384', 'sha512'], alphabet: 'abcdefgh', length: 3, hashesPerBatch: 2 } },
    });
    const job = await generator.generate({
      jobUuid: 'hc',
      minerHotkey: '5Miner',
      executorClass: hardwareClass('always_on.test'),
      cycle: 1,
    });
    expect(await job.verify(await runJob(job, 'crack.mjs', ['--solver', 'hashcat']))).toMatchObject({ correct: true });
  });
});
