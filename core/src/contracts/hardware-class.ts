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
  readonly gpu?: { readonly count: number; readonly vramGb: number; readonly model?: string };
  readonly cpuCores?: number;
  readonly ramGb?: number;
  readonly storageGb?: number;
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
