import type { DockerRunOptionsPreset } from './job.js';

/** Where the executor reaches a streaming job's server once the job runs. */
export interface JobServerAddress {
  readonly host: string;
  readonly port: number;
}

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
  /**
   * An empty directory of the job's own, made by the caller before the job request came and
   * removed by it after the result was sent: the process runner's cwd and HOME (it makes and
   * removes a temp dir of its own when absent). A container has its own file system and ignores it.
   */
  readonly scratchDir?: string;
  /**
   * `none` (default): no network at all. `streaming`: the job's server must be reachable by the
   * executor's TLS proxy and by nothing else: a network of the job's own with no route out (an
   * internal Docker network), or loopback for the process runner. The server listens on
   * `$HORDE_STREAMING_PORT` (8000 in a container, as ComputeHorde's `JOB_CONTAINER_PORT`).
   */
  readonly network: 'none' | 'streaming';
  /** Streaming jobs: called once the job was started, with where its server can be reached. */
  readonly onServerStarted?: (address: JobServerAddress) => void;
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
