/**
 * Every shipped hardware class can be proven and is paid: a shipped job generator supports it,
 * and the default class weights give every GPU class a non-zero pool. And the hash-crack sizing
 * of the shipped rate table: each class's challenge fits its bound on the class's slowest card
 * and is missed by the card of the class below it wherever the rates are more than the margin
 * apart (the pairs it cannot separate are listed in the plugin's README and checked here too).
 */
import { describe, expect, it } from 'vitest';
import type { HardwareClass } from '../../core/src/contracts/index.js';
import { generatorFor } from '../../core/src/validator/batch.js';
import { HARDWARE_CLASSES } from '../../plugins/hardware-classes/src/classes.js';
import { GpuMatmulGenerator } from '../../plugins/job-gpu-matmul/src/generator.js';
import { HashCrackGenerator } from '../../plugins/job-hash-crack/src/generator.js';
import { GPU_SIZING } from '../../plugins/job-hash-crack/src/params.js';
import { CPU_CORE_RATES, GPU_HASH_RATES, type HashRates } from '../../plugins/job-hash-crack/src/rates.js';
import { hashSeconds } from '../../plugins/job-hash-crack/src/sizing.js';
import { DEFAULT_CLASS_WEIGHTS as ALLOWANCE_WEIGHTS } from '../../plugins/scoring-allowance/src/split.js';
import { DEFAULT_CLASS_WEIGHTS as CLASSIC_WEIGHTS } from '../../plugins/scoring-classic/src/rules/class-weights.js';

const byId = (id: string): HardwareClass => HARDWARE_CLASSES.find((c) => c.id === id)!;
const rateOf = (model: string): HashRates => GPU_HASH_RATES.find((entry) => entry.model === model)!.rates;
const times = (rates: HashRates, factor: number): HashRates => ({
  sha256: rates.sha256 * factor,
  sha384: rates.sha384 * factor,
  sha512: rates.sha512 * factor,
});
const hashCrack = new HashCrackGenerator();

describe('shipped hardware classes', () => {
  it('each has a shipped generator that proves it', () => {
    for (const hardwareClass of HARDWARE_CLASSES) {
      expect(generatorFor(hardwareClass, [hashCrack])?.name, hardwareClass.id).toBe('hash-crack');
      expect(hashCrack.paramsFor(hardwareClass).timeLimitSeconds, hardwareClass.id).toBeLessThanOrEqual(53);
    }
  });

  it('each class the matrix proof has sizes for lists it among its generators', () => {
    const matmul = new GpuMatmulGenerator();
    const proven = HARDWARE_CLASSES.filter((c) => matmul.supports(c)).map((c) => c.id);
    expect(proven).toEqual([
      'always_on.llm.a6000',
      'always_on.test',
      'always_on.cpu.8c.16gb',
      'always_on.gpu.a100-80gb',
      'always_on.gpu.h100-80gb',
    ]);
    for (const id of proven.filter((id) => byId(id).resources.gpu)) expect(byId(id).proof.jobGenerators, id).toContain('gpu-matmul');
  });

  it('each GPU class has a non-zero default weight in both scoring plugins', () => {
    const gpuClasses = HARDWARE_CLASSES.filter((c) => c.resources.gpu);
    expect(gpuClasses.map((c) => c.id)).toEqual([
      'spin_up-4min.gpu-24gb',
      'always_on.gpu-24gb',
      'always_on.llm.a6000',
      'always_on.gpu.a100-80gb',
      'always_on.gpu.h100-80gb',
    ]);
    for (const hardwareClass of gpuClasses) {
      expect(CLASSIC_WEIGHTS[hardwareClass.id], hardwareClass.id).toBeGreaterThan(0);
      expect(ALLOWANCE_WEIGHTS[hardwareClass.id], hardwareClass.id).toBeGreaterThan(0);
    }
  });

  it('each GPU class names its cards, and every card is in the hash-rate table', () => {
    for (const hardwareClass of HARDWARE_CLASSES.filter((c) => c.resources.gpu)) {
      const models = hardwareClass.resources.gpu?.models ?? [];
      expect(models.length, hardwareClass.id).toBeGreaterThan(0);
      for (const model of models)
        expect(
          GPU_HASH_RATES.some((entry) => entry.model === model),
          model,
        ).toBe(true);
    }
  });
});

describe('hash-crack sized from the rate table', () => {
  /** Seconds a card of `rates` needs for the class's job, start-ups included. */
  const jobSeconds = (classId: string, rates: HashRates) =>
    GPU_SIZING.overheadSeconds + hashSeconds(hashCrack.paramsFor(byId(classId)), rates);
  const bound = (classId: string) => hashCrack.paramsFor(byId(classId)).timeLimitSeconds;

  it('fits the bound on the slowest card of each GPU class, using 1/margin of the hashing allowance', () => {
    for (const hardwareClass of HARDWARE_CLASSES.filter((c) => c.resources.gpu)) {
      for (const model of hardwareClass.resources.gpu!.models!) {
        expect(jobSeconds(hardwareClass.id, rateOf(model)), `${hardwareClass.id} on ${model}`).toBeLessThanOrEqual(bound(hardwareClass.id));
      }
      const slowest = hashCrack.expectedRates(hardwareClass)!;
      const hashing = jobSeconds(hardwareClass.id, slowest) - GPU_SIZING.overheadSeconds;
      expect(hashing * GPU_SIZING.margin + GPU_SIZING.overheadSeconds).toBeCloseTo(bound(hardwareClass.id), 1);
    }
  });

  it('is missed by the card of the class below: an A100 on the H100 job, a CPU on the 24 GB job, 2 cores on the 8-core job', () => {
    expect(jobSeconds('always_on.gpu.h100-80gb', rateOf('A100'))).toBeGreaterThan(bound('always_on.gpu.h100-80gb'));
    expect(jobSeconds('always_on.gpu-24gb', times(CPU_CORE_RATES, 64))).toBeGreaterThan(20 * bound('always_on.gpu-24gb'));
    const cpuJob = hashCrack.paramsFor(byId('always_on.cpu.8c.16gb'));
    expect(hashSeconds(cpuJob, times(CPU_CORE_RATES, 8))).toBeLessThan(cpuJob.timeLimitSeconds);
    expect(hashSeconds(cpuJob, times(CPU_CORE_RATES, 2))).toBeGreaterThan(cpuJob.timeLimitSeconds);
  });

  it('cannot tell the A6000 and A100 classes from a fast 24 GB card: their memory is proven otherwise', () => {
    // An RTX 4090 (24 GB class) out-hashes both: what proves 48 and 80 GB is the memory, not the
    // speed: the A6000's prompt job needs a 30 GB model, and the spec cross-check reads VRAM.
    expect(jobSeconds('always_on.llm.a6000', rateOf('RTX 4090'))).toBeLessThan(bound('always_on.llm.a6000'));
    expect(jobSeconds('always_on.gpu.a100-80gb', rateOf('RTX 4090'))).toBeLessThan(bound('always_on.gpu.a100-80gb'));
    expect(byId('always_on.llm.a6000').proof.jobGenerators[0]).toBe('llm-prompts');
    expect(byId('always_on.gpu.a100-80gb').resources.gpu?.vramGb).toBe(80);
  });
});
