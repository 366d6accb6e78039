import type { JobRunner, Logger } from '../../contracts/index.js';
import { definedFields } from '../../object/defined-fields.js';

export interface RunnerChoice {
  readonly kind: 'docker' | 'process';
  /** `process` only: image → local command line (see `executor.processImages`). */
  readonly processImages?: Readonly<Record<string, readonly string[]>>;
  /** `docker` only: limits for every job container (see `executor.jobLimits`). */
  readonly limits?: {
    readonly memoryBytes?: number | undefined;
    readonly pids?: number | undefined;
    readonly cpus?: number | undefined;
    readonly dropCapabilities?: boolean | undefined;
    readonly logBytes?: number | undefined;
    readonly diskBytes?: number | null | undefined;
    readonly user?: string | undefined;
  };
  /** The GPUs the executor manager gave this executor (`pinnedGpus`); unset: every GPU. */
  readonly gpuDevices?: readonly string[] | undefined;
  readonly logger: Logger;
}

/**
 * The GPUs an executor was pinned to by its manager: `CUDA_VISIBLE_DEVICES` of the agent's
 * environment (`0`, `1,3`), or undefined when it is not set (every GPU). The docker runner turns
 * it into `--gpus device=…`, the process runner passes it on to the job.
 */
export function pinnedGpus(env: Readonly<Record<string, string | undefined>>): string[] | undefined {
  const value = env['CUDA_VISIBLE_DEVICES']?.trim();
  if (!value) return undefined;
  const devices = value
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean);
  return devices.length > 0 ? devices : undefined;
}

/**
 * The job runner the agent uses: `docker` (a container with no network, the security boundary)
 * or `process` (a local process per job, for machines without Docker; not a security boundary).
 * Imported lazily so a process-runner executor never loads dockerode.
 */
export async function createJobRunner(choice: RunnerChoice): Promise<JobRunner> {
  if (choice.kind === 'docker') {
    const { DEFAULT_HARDENING, DEFAULT_PIDS_LIMIT, DockerJobRunner, defaultMemoryBytes } = await import('../runners/docker.js');
    const limits = choice.limits;
    const gpus = choice.gpuDevices ? { gpuDevices: choice.gpuDevices } : {};
    if (!limits) return new DockerJobRunner({ logger: choice.logger, ...gpus });
    return new DockerJobRunner({
      logger: choice.logger,
      ...gpus,
      defaultLimits: {
        memoryBytes: limits.memoryBytes ?? defaultMemoryBytes(),
        pids: limits.pids ?? DEFAULT_PIDS_LIMIT,
        ...(limits.cpus !== undefined ? { nanoCpus: Math.round(limits.cpus * 1e9) } : {}),
      },
      hardening: {
        dropCapabilities: limits.dropCapabilities ?? DEFAULT_HARDENING.dropCapabilities,
        logBytes: limits.logBytes ?? DEFAULT_HARDENING.logBytes,
        diskBytes: limits.diskBytes === undefined ? DEFAULT_HARDENING.diskBytes : limits.diskBytes,
        user: limits.user ?? DEFAULT_HARDENING.user,
      },
    });
  }
  const { ProcessJobRunner } = await import('../runners/process.js');
  const images: Record<string, string[]> = {};
  for (const [image, argv] of Object.entries(choice.processImages ?? {})) images[image] = [...argv];
  // One job per agent: its process is a shell started now, with the agent (see `StandbyShell`).
  return new ProcessJobRunner({ images, logger: choice.logger, standbyShell: true, ...definedFields({ gpuDevices: choice.gpuDevices }) });
}
