import { describe, expect, it } from 'vitest';
import type { HardwareClass } from '../contracts/index.js';
import { checkMachineSpecs, compareVersions, gpuModelMatches } from './spec-check.js';

const H100: HardwareClass = {
  id: 'always_on.gpu.h100-80gb',
  description: 'H100',
  spinUpSeconds: 30,
  shortCode: 'H',
  resources: { gpu: { count: 1, vramGb: 80, models: ['H100'], minComputeCapability: '9.0', minDriverVersion: '535.54.03' } },
  dockerPreset: 'nvidia_all',
  proof: { jobGenerators: ['hash-crack'], maxJobSeconds: 53 },
};
const CPU: HardwareClass = { ...H100, id: 'always_on.cpu.8c.16gb', resources: { cpuCores: 8, ramGb: 16 }, dockerPreset: 'none' };
const TEST: HardwareClass = { ...H100, id: 'always_on.test', resources: {}, dockerPreset: 'none' };

const gpu = (name: string, capacity: string, extra: Partial<Record<'driver' | 'cuda' | 'uuid', string>> = {}) => ({
  name,
  driver: '550.54.15',
  capacity,
  cuda: '9.0',
  power_limit: '700',
  graphics_speed: '1980',
  memory_speed: '2619',
  uuid: 'GPU-1',
  serial: '1',
  ...extra,
});
const specs = (gpus: unknown[], cpuCount = 16, ramKb = 64 * 1024 * 1024) => ({
  gpu: { count: gpus.length, details: gpus },
  cpu: { count: cpuCount, model: 'x', clocks: [] },
  ram: { total: ramKb },
  os: 'Debian',
});

describe('machine spec cross-check', () => {
  it('passes an H100 80GB with a recent driver and records its UUID', () => {
    expect(checkMachineSpecs(H100, specs([gpu('NVIDIA H100 80GB HBM3', '81559', { uuid: 'GPU-abc' })]))).toEqual({
      problems: [],
      gpuUuids: ['GPU-abc'],
    });
  });

  it('fails another card declared as an H100, naming the card and the class', () => {
    const check = checkMachineSpecs(H100, specs([gpu('NVIDIA GeForce RTX 3090', '24576', { cuda: '8.6' })]));
    expect(check.problems[0]).toBe('always_on.gpu.h100-80gb needs 1 GPU(s), 0 of 1 reported qualify');
    expect(check.problems[1]).toContain(
      'GPU "NVIDIA GeForce RTX 3090" is not one of H100, has 24576 MiB VRAM, needs 80 GB, compute capability 8.6 is below 9.0',
    );
  });

  it('fails a card of the right model with too little VRAM or too old a driver', () => {
    expect(checkMachineSpecs(H100, specs([gpu('NVIDIA H100 PCIe', '40960')])).problems.join()).toContain('has 40960 MiB VRAM, needs 80 GB');
    expect(checkMachineSpecs(H100, specs([gpu('NVIDIA H100 80GB HBM3', '81559', { driver: '525.60.13' })])).problems.join()).toContain(
      'driver 525.60.13 is older than 535.54.03',
    );
  });

  it('fails a GPU class with no GPU, no specs or unreadable specs; a class without requirements needs none', () => {
    expect(checkMachineSpecs(H100, specs([])).problems[0]).toContain('0 of 0 reported qualify');
    expect(checkMachineSpecs(H100, null).problems).toEqual(['no machine specs reported']);
    expect(checkMachineSpecs(H100, { gpu_scrape_error: 'Error: nvidia-smi exited 9' }).problems).toEqual([
      'GPU specs missing (Error: nvidia-smi exited 9)',
    ]);
    expect(checkMachineSpecs(H100, { gpu: 'lots' }).problems[0]).toMatch(/^machine specs unreadable/);
    expect(checkMachineSpecs(TEST, null).problems).toEqual([]);
  });

  it('checks CPU cores and RAM, allowing what the kernel reserves', () => {
    expect(checkMachineSpecs(CPU, specs([], 8, 16_300_000)).problems).toEqual([]);
    expect(checkMachineSpecs(CPU, specs([], 2, 4 * 1024 * 1024)).problems).toEqual([
      '2 CPU cores reported, always_on.cpu.8c.16gb needs 8',
      '4.0 GB RAM reported, always_on.cpu.8c.16gb needs 16 GB',
    ]);
  });

  it('matches GPU models by whole words', () => {
    expect(gpuModelMatches('NVIDIA A100-SXM4-80GB', 'A100')).toBe(true);
    expect(gpuModelMatches('NVIDIA A100 80GB PCIe', 'A10')).toBe(false);
    expect(gpuModelMatches('NVIDIA A10', 'A10')).toBe(true);
    expect(gpuModelMatches('NVIDIA GeForce RTX 4090', 'RTX 4090')).toBe(true);
    expect(gpuModelMatches('NVIDIA RTX A6000', 'RTX A6000')).toBe(true);
    expect(gpuModelMatches('NVIDIA RTX A6000', 'A6000 RTX')).toBe(false);
    expect(compareVersions('535.104.05', '535.54.03')).toBeGreaterThan(0);
    expect(compareVersions('9.0', '9.0')).toBe(0);
    expect(compareVersions('8.9', '9.0')).toBeLessThan(0);
  });
});
