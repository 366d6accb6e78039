import type { DockerRunOptionsPreset } from './job.js';

/** One container (or process) run on the executor's machine. */
export interface JobRunSpec {
  readonly jobUuid: string;
  readonly image: string;
  /** Command; empty means the image's default. */
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Contents of `/script.py` when the job sent `raw_script`. */
  readonly rawScript?: string;
  readonly preset: DockerRunOptionsPreset;
  /** Host directories mounted at `/volume`, `/output` and `artifactsMountPath`. */
  readonly volumeDir: string;
  readonly outputDir: string;
  readonly artifactsDir: string;
  readonly artifactsMountPath: string;
  /** `none` (default): no network at all. `bridge` only for streaming jobs. */
  readonly network: 'none' | 'bridge';
  readonly limits?: { readonly memoryBytes?: number; readonly pids?: number; readonly nanoCpus?: number };
  /** Execution time limit; the run is killed when it passes. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface JobRunOutcome {
  /** Null when killed (timeout, abort). */
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly oomKilled: boolean;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
}

/**
 * Runs a job's command inside the executor: `docker` (dockerode, the default, a security boundary)
 * or `process` (a subprocess in a temp dir for machines without Docker; not a security boundary).
 */
export interface JobRunner {
  readonly name: string;
  /** Makes the image available (pull, or check it exists). Throws `ImageNotFoundError` if it cannot. */
  prepare(image: string): Promise<void>;
  /** Runs to completion, timeout or abort; never leaves the container behind. */
  run(spec: JobRunSpec): Promise<JobRunOutcome>;
}
