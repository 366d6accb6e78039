import type { JobRunner, Logger } from '../../contracts/index.js';

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
  readonly logger: Logger;
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
    if (!limits) return new DockerJobRunner({ logger: choice.logger });
    return new DockerJobRunner({
      logger: choice.logger,
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
  return new ProcessJobRunner({ images, logger: choice.logger });
}
