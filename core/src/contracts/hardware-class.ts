import type { DockerRunOptionsPreset } from './job.js';

/**
 * An executor (hardware) class: what a miner declares in its manifest and a validator pays for.
 * Ids follow ComputeHorde's `<availability>.<kind>[.<detail>]` form, e.g. `always_on.llm.a6000`.
 */
export interface HardwareClass {
  readonly id: string;
  readonly description: string;
  /**
   * Seconds an executor of this class may take from "reserved" to "ready". The validator staggers
   * initial requests by it (slow classes first) and waits `spinUpSeconds + startup limit` for
   * `V0ExecutorReadyRequest`; the miner waits this long for a starting executor to connect.
   */
  readonly spinUpSeconds: number;
  /**
   * One upper-case letter used in the on-chain manifest commitment (`<M:C4;L2>`). ComputeHorde's
   * classes use A, S, L, T and C; new classes must pick a free letter.
   */
  readonly shortCode: string;
  readonly resources: HardwareResources;
  /** `nvidia_all` for classes with a GPU, `none` otherwise. */
  readonly dockerPreset: DockerRunOptionsPreset;
  /** How an executor of this class proves itself to a validator. */
  readonly proof: HardwareProof;
}

export interface HardwareResources {
  readonly gpu?: GpuRequirements;
  readonly cpuCores?: number;
  readonly ramGb?: number;
  readonly storageGb?: number;
}

/**
 * The GPUs a class needs. The validator checks them against the specs the executor reports
 * (nvidia-smi) with every job; a job from an executor that does not meet them fails.
 */
export interface GpuRequirements {
  /** GPUs the executor must have (at least). */
  readonly count: number;
  /** VRAM per GPU in GB (1 GB = 1024 MiB as nvidia-smi reports it), allowing 5 % for what the driver reserves. */
  readonly vramGb: number;
  /** Display name of the class's card, for descriptions. */
  readonly model?: string;
  /**
   * Cards this class accepts, as they appear in nvidia-smi's name without the "NVIDIA"/"GeForce"
   * prefixes (`RTX A6000`, `A100`, `H100`); a name matches when the model's words appear in it as
   * whole words (`A10` does not match `A100`). Absent: any card with enough VRAM.
   */
  readonly models?: readonly string[];
  /** Lowest driver version (`535.104.05`), compared number by number. */
  readonly minDriverVersion?: string;
  /** Lowest CUDA compute capability (`8.0`). */
  readonly minComputeCapability?: string;
}

export interface HardwareProof {
  /** Names of the `JobGenerator`s whose synthetic jobs verify this class, in order of preference. */
  readonly jobGenerators: readonly string[];
  /**
   * Longest execution time, in seconds, that an honest executor of this class needs for the
   * class's synthetic job. A result slower than this scores as not done.
   */
  readonly maxJobSeconds: number;
}
