import type Dockerode from 'dockerode';
import { z } from 'zod';
import { StartupCheckFailed, type CheckContext, type CheckFacts, type StartupCheck } from './types.js';

/** The part of `GET /info` this check reads. Everything optional: engines differ by version. */
const engineInfoSchema = z.looseObject({
  /** The engine's own id, kept across restarts of the same engine (its data root). */
  ID: z.string().optional(),
  Name: z.string().optional(),
  Driver: z.string().optional(),
  DockerRootDir: z.string().optional(),
  ServerVersion: z.string().optional(),
  OperatingSystem: z.string().optional(),
  KernelVersion: z.string().optional(),
  CgroupVersion: z.string().optional(),
  CgroupDriver: z.string().optional(),
  DefaultRuntime: z.string().optional(),
  Runtimes: z.record(z.string(), z.unknown()).nullish(),
  /** e.g. `["name=seccomp,profile=default", "name=apparmor", "name=userns", "name=rootless", "name=cgroupns"]`. */
  SecurityOptions: z.array(z.string()).nullish(),
});

export type EngineFacts = CheckFacts & {
  readonly serverVersion: string | null;
  readonly seccompProfile: string | null;
  readonly apparmor: boolean;
  readonly selinux: boolean;
  readonly userns: boolean;
  readonly rootless: boolean;
};

/**
 * What the engine says about how it confines containers (`docker info` → Security Options),
 * reported as it is. It sets no policy of its own: whether a container can actually escape is what
 * the `container_escape` check tries.
 */
export function engineFacts(info: z.output<typeof engineInfoSchema>): EngineFacts {
  const options = new Map<string, Map<string, string>>();
  for (const entry of info.SecurityOptions ?? []) {
    const fields = new Map(entry.split(',').map((pair) => pair.split('=', 2) as [string, string]));
    const name = fields.get('name');
    if (name) options.set(name, fields);
  }
  const seccomp = options.get('seccomp');
  return {
    serverVersion: info.ServerVersion ?? null,
    kernelVersion: info.KernelVersion ?? null,
    operatingSystem: info.OperatingSystem ?? null,
    cgroupVersion: info.CgroupVersion ?? null,
    defaultRuntime: info.DefaultRuntime ?? null,
    nvidiaRuntime: Object.hasOwn(info.Runtimes ?? {}, 'nvidia'),
    // An engine without the seccomp option runs containers with no syscall filter at all.
    seccompProfile: seccomp ? (seccomp.get('profile') ?? 'default') : null,
    apparmor: options.has('apparmor'),
    selinux: options.has('selinux'),
    userns: options.has('userns'),
    rootless: options.has('rootless'),
  };
}

/**
 * Which engine this is and how it is set up to confine containers, from `GET /info`: what a cached
 * startup check result must have been found on (`boot-cache.ts`). An engine restarted with other
 * security options, runtimes, cgroup settings or storage driver, or another engine behind the same
 * socket, gives another identity. Null when the answer is not an engine's.
 */
export function engineIdentity(raw: unknown): Record<string, unknown> | null {
  const parsed = engineInfoSchema.safeParse(raw);
  if (!parsed.success) return null;
  const info = parsed.data;
  return {
    id: info.ID ?? null,
    name: info.Name ?? null,
    serverVersion: info.ServerVersion ?? null,
    kernelVersion: info.KernelVersion ?? null,
    operatingSystem: info.OperatingSystem ?? null,
    cgroupVersion: info.CgroupVersion ?? null,
    cgroupDriver: info.CgroupDriver ?? null,
    defaultRuntime: info.DefaultRuntime ?? null,
    runtimes: Object.keys(info.Runtimes ?? {}).sort(),
    securityOptions: [...(info.SecurityOptions ?? [])].sort(),
    storageDriver: info.Driver ?? null,
    rootDir: info.DockerRootDir ?? null,
  };
}

/**
 * `docker_engine`: the engine answers, and says how it confines containers. Fails only when the
 * engine does not answer (no job container could run); what it reports is logged, with a warning
 * when containers would run without a seccomp filter.
 */
export class DockerEngineCheck implements StartupCheck {
  readonly name = 'docker_engine' as const;
  readonly proves =
    'the Docker engine answers; its confinement settings (seccomp, AppArmor, SELinux, user namespaces, rootless) are on record';

  /**
   * `info`: how to ask the engine for `GET /info`; default `docker.info()`. The startup checks
   * share one answer per job between this check and the key of the per-boot cache.
   */
  constructor(
    private readonly docker: Dockerode,
    private readonly info: () => Promise<unknown> = () => docker.info() as Promise<unknown>,
  ) {}

  async run(context: CheckContext): Promise<CheckFacts> {
    let raw: unknown;
    try {
      // Neither ping nor info takes a signal in dockerode; the stage deadline bounds the wait.
      raw = await this.info();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new StartupCheckFailed(
        this.name,
        `the Docker engine does not answer (${message})`,
        { dockerHost: process.env.DOCKER_HOST ?? 'default socket' },
        { cause: error },
      );
    }
    const parsed = engineInfoSchema.safeParse(raw);
    if (!parsed.success) {
      throw new StartupCheckFailed(this.name, `the Docker engine's /info answer is not what an engine sends: ${parsed.error.message}`);
    }
    const facts = engineFacts(parsed.data);
    if (facts.seccompProfile === null || facts.seccompProfile === 'unconfined') {
      context.logger.warn({ jobUuid: context.jobUuid, ...facts }, 'the Docker engine runs containers without a seccomp filter');
    }
    return facts;
  }
}
