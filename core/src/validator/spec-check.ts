import { z } from 'zod';
import type { HardwareClass } from '../contracts/index.js';

/**
 * The validator's cross-check of an executor's reported machine specs (`V0MachineSpecsRequest`,
 * shape in `executor/machine-specs.ts`) against what its declared class requires. A miner that
 * declares a faster class than the machine it runs must either report that machine (and fail
 * here) or lie in its specs (and fail the class's timed proof, which is sized for the class's cards).
 */

/** VRAM and RAM as reported sit a little below the nominal size (driver and kernel reservations). */
const VRAM_TOLERANCE = 0.95;
const RAM_TOLERANCE = 0.9;

// Everything is optional: a part that could not be read arrives as `<part>_scrape_error` instead.
const gpuDetailSchema = z.looseObject({
  name: z.string().default(''),
  driver: z.string().default(''),
  capacity: z.union([z.string(), z.number()]).default(''),
  cuda: z.string().default(''),
  uuid: z.string().default(''),
});
const reportedSpecsSchema = z.looseObject({
  gpu: z.looseObject({ count: z.number().default(0), details: z.array(gpuDetailSchema).default([]) }).optional(),
  cpu: z.looseObject({ count: z.number().default(0) }).optional(),
  ram: z.looseObject({ total: z.number().optional() }).optional(),
});

export interface SpecCheck {
  /** Empty when the specs meet the class's requirements. */
  readonly problems: readonly string[];
  /** GPU UUIDs the executor reported (nvidia-smi `uuid`), for the one-GPU-one-credit registry. */
  readonly gpuUuids: readonly string[];
}

/** Whether the class states any requirement the specs can be checked against. */
export function hasSpecRequirements(hardwareClass: HardwareClass): boolean {
  const { gpu, cpuCores, ramGb } = hardwareClass.resources;
  return gpu !== undefined || cpuCores !== undefined || ramGb !== undefined;
}

/** Upper-case words of a GPU name without the vendor and brand words: `NVIDIA GeForce RTX 4090` → `RTX 4090`. */
function gpuWords(name: string): string[] {
  return name
    .toUpperCase()
    .split(/[\s\-_/]+/)
    .filter((word) => word !== '' && word !== 'NVIDIA' && word !== 'GEFORCE' && word !== 'TESLA');
}

/** Whether a reported GPU name is the model: the model's words appear in the name, whole and in order. */
export function gpuModelMatches(reportedName: string, model: string): boolean {
  const name = gpuWords(reportedName);
  const wanted = gpuWords(model);
  if (wanted.length === 0) return false;
  for (let start = 0; start + wanted.length <= name.length; start++) {
    if (wanted.every((word, i) => name[start + i] === word)) return true;
  }
  return false;
}

/** Compares dotted versions number by number (`535.104.05` vs `525.60.13`): negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  const left = a.split('.').map((part) => Number.parseInt(part, 10));
  const right = b.split('.').map((part) => Number.parseInt(part, 10));
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (Number.isFinite(left[i]) ? left[i]! : 0) - (Number.isFinite(right[i]) ? right[i]! : 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

function checkGpus(hardwareClass: HardwareClass, details: ReadonlyArray<z.output<typeof gpuDetailSchema>>): string[] {
  const required = hardwareClass.resources.gpu;
  if (!required) return [];
  const problems: string[] = [];
  const minMiB = required.vramGb * 1024 * VRAM_TOLERANCE;
  // GPUs that meet every per-card requirement; the class needs `count` of them.
  const fitting = details.filter((gpu) => {
    const why: string[] = [];
    if (required.models && !required.models.some((model) => gpuModelMatches(gpu.name, model)))
      why.push(`is not one of ${required.models.join(', ')}`);
    const capacity = Number(gpu.capacity);
    if (!(capacity >= minMiB))
      why.push(`has ${Number.isFinite(capacity) ? Math.round(capacity) : '?'} MiB VRAM, needs ${required.vramGb} GB`);
    if (required.minDriverVersion && compareVersions(gpu.driver, required.minDriverVersion) < 0)
      why.push(`driver ${gpu.driver || '?'} is older than ${required.minDriverVersion}`);
    if (required.minComputeCapability && compareVersions(gpu.cuda, required.minComputeCapability) < 0)
      why.push(`compute capability ${gpu.cuda || '?'} is below ${required.minComputeCapability}`);
    if (why.length > 0) problems.push(`GPU "${gpu.name || '?'}" ${why.join(', ')}`);
    return why.length === 0;
  });
  if (fitting.length < required.count) {
    return [`${hardwareClass.id} needs ${required.count} GPU(s), ${fitting.length} of ${details.length} reported qualify`, ...problems];
  }
  return [];
}

/**
 * Checks the specs an executor reported against its class. `specs` is the inner `specs` object
 * of `V0MachineSpecsRequest`, or null when the executor sent none (which fails a class that has
 * requirements: an executor hiding its machine cannot be told apart from one lying about it).
 */
export function checkMachineSpecs(hardwareClass: HardwareClass, specs: Record<string, unknown> | null): SpecCheck {
  if (specs === null) return { problems: hasSpecRequirements(hardwareClass) ? ['no machine specs reported'] : [], gpuUuids: [] };
  const parsed = reportedSpecsSchema.safeParse(specs);
  if (!parsed.success)
    return {
      problems: hasSpecRequirements(hardwareClass) ? [`machine specs unreadable: ${parsed.error.issues[0]?.message ?? 'bad shape'}`] : [],
      gpuUuids: [],
    };
  const reported = parsed.data;
  const details = reported.gpu?.details ?? [];
  const gpuUuids = details.map((gpu) => gpu.uuid).filter((uuid) => uuid !== '');
  const problems: string[] = [];
  const { cpuCores, ramGb } = hardwareClass.resources;
  if (hardwareClass.resources.gpu) {
    if (!reported.gpu)
      problems.push(`GPU specs missing${typeof specs['gpu_scrape_error'] === 'string' ? ` (${specs['gpu_scrape_error']})` : ''}`);
    else problems.push(...checkGpus(hardwareClass, details));
  }
  if (cpuCores !== undefined && !((reported.cpu?.count ?? 0) >= cpuCores))
    problems.push(`${reported.cpu?.count ?? 0} CPU cores reported, ${hardwareClass.id} needs ${cpuCores}`);
  if (ramGb !== undefined) {
    const totalKb = reported.ram?.total;
    const neededKb = ramGb * 1024 * 1024 * RAM_TOLERANCE;
    if (totalKb === undefined || !(totalKb >= neededKb))
      problems.push(
        `${totalKb === undefined ? 'no' : `${(totalKb / 1024 / 1024).toFixed(1)} GB`} RAM reported, ${hardwareClass.id} needs ${ramGb} GB`,
      );
  }
  return { problems, gpuUuids };
}
