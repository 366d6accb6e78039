import type { HardwareClass } from './hardware-class.js';
import type { JobResult, JobSpec } from './job.js';

/** The validator's judgement of one finished job. */
export interface Verdict {
  /** The output is what an honest executor produces. */
  readonly correct: boolean;
  /** The job finished within the class's time bound. */
  readonly inTime: boolean;
  /** Human-readable reason, stored with the job outcome and shown by `horde validator scores`. */
  readonly details: string;
}

export interface GenerateRequest {
  readonly jobUuid: string;
  readonly minerHotkey: string;
  readonly executorClass: HardwareClass;
  /** Cycle number; generators may derive deterministic seeds from it. */
  readonly cycle: number;
}

/** A job ready to send, with the check of its result. */
export interface GeneratedJob {
  readonly spec: JobSpec;
  /** Short description for logs and the store, e.g. `hash-crack sha256 x100`. */
  readonly description: string;
  /** Checks the result. May do I/O (download an upload from the object store); must not throw for bad output. */
  verify(result: JobResult): Promise<Verdict>;
}

/**
 * Runs one job on the validator's trusted miner (a horde miner in local mode that serves only this
 * validator) and returns its result: how generators get ground truth they cannot compute.
 */
export interface TrustedMinerRunner {
  run(spec: JobSpec, options?: { readonly timeoutMs?: number }): Promise<JobResult>;
}

export interface PrepareContext {
  readonly cycle: number;
  readonly executorClasses: readonly HardwareClass[];
  /** Absent when the validator has no trusted miner configured. */
  readonly trustedMiner?: TrustedMinerRunner;
}

/**
 * Produces synthetic jobs for a validator's batches (and checks their results). One generator per
 * kind of job; `HardwareClass.proof.jobGenerators` says which generators may verify a class.
 *
 * `prepare` runs once per batch before any job is generated (e.g. have the trusted miner answer a
 * prompt series); `generate` is then called once per declared executor and must be cheap, because a
 * batch generates thousands of jobs at once.
 */
export interface JobGenerator {
  readonly name: string;
  /** Whether this generator can produce a job that proves `executorClass`. */
  supports(executorClass: HardwareClass): boolean;
  prepare?(ctx: PrepareContext): Promise<void>;
  generate(request: GenerateRequest): Promise<GeneratedJob>;
}
