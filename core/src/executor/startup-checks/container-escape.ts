import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DockerJobRunner } from '../runners/docker.js';
import { CONTAINED_LINE, ESCAPE_PROBE_SCRIPT, parseProbeOutput } from './escape-probe.js';
import { StartupCheckFailed, type CheckContext, type CheckFacts, type StartupCheck } from './types.js';

export interface ContainerEscapeCheckOptions {
  /** The job runner: the probe runs through it, so it gets exactly the job's container settings. */
  readonly runner: DockerJobRunner;
  /** Image to probe with; default the job's own image (already pulled by then). */
  readonly image?: string;
  /** Upper bound on the probe container's run, besides what is left of the startup stage. */
  readonly maxRunMs?: number;
}

/**
 * `container_escape` (the original's CVE-2022-0492 check): a container with the job's settings —
 * no network, no added capabilities, the engine's default seccomp / AppArmor, same binds and
 * limits, run as root — cannot reach a writable cgroup v1 `release_agent`, neither directly nor
 * through new user + cgroup namespaces. See `escape-probe.ts` for what the probe tries.
 */
export class ContainerEscapeCheck implements StartupCheck {
  readonly name = 'container_escape' as const;
  readonly proves = 'a job container cannot write a cgroup v1 release_agent, directly or via user namespaces (CVE-2022-0492)';

  constructor(private readonly options: ContainerEscapeCheckOptions) {}

  async run(context: CheckContext): Promise<CheckFacts> {
    const image = this.options.image ?? context.image;
    if (!image) {
      throw new StartupCheckFailed(
        this.name,
        'no image to run the probe in: the job names no image and executor.startupCheckImage is not set',
      );
    }
    // The job's own directory layout, empty: same binds as the job, none of its data.
    const dirs = {
      volume: join(context.workDir, 'volume'),
      output: join(context.workDir, 'output'),
      artifacts: join(context.workDir, 'artifacts'),
    };
    await Promise.all(Object.values(dirs).map((dir) => mkdir(dir, { recursive: true })));
    const probeId = `${context.jobUuid}-escape-check-${randomUUID().slice(0, 8)}`;
    const outcome = await this.options.runner.run({
      jobUuid: probeId,
      image,
      entrypoint: ['/bin/sh', '-c'],
      command: [ESCAPE_PROBE_SCRIPT],
      // Root, as a job's image may make its process: the check must cover the worst case.
      user: '0:0',
      env: {},
      preset: 'none',
      volumeDir: dirs.volume,
      outputDir: dirs.output,
      artifactsDir: dirs.artifacts,
      artifactsMountPath: '/artifacts',
      network: 'none',
      timeoutMs: Math.max(1, Math.min(context.timeLeftMs(), this.options.maxRunMs ?? 30_000)),
      signal: context.signal,
    });
    const report = parseProbeOutput(outcome.stdout);
    const facts: CheckFacts = {
      image,
      probeMs: outcome.durationMs,
      userNamespaces: report.userNamespaces,
      hierarchiesTried: report.attempts.length,
    };
    const verdict = report.verdict;
    if (verdict === null) {
      const why = outcome.timedOut ? 'it ran out of time' : `it exited with ${outcome.exitCode ?? 'no exit code'}`;
      throw new StartupCheckFailed(
        this.name,
        `the escape probe gave no verdict in image ${image} (${why}; stderr: ${outcome.stderr.trim().slice(0, 300) || 'empty'}); ` +
          'the image needs /bin/sh, mount and unshare, or set executor.startupCheckImage',
        facts,
      );
    }
    if (verdict.kind === 'escapable') {
      const how =
        verdict.via === 'direct'
          ? `the job container itself may mount cgroup v1 hierarchy "${verdict.hierarchy}" and write its release_agent (it runs with CAP_SYS_ADMIN and no seccomp/AppArmor stops the mount)`
          : `the job container may create a user namespace, mount cgroup v1 hierarchy "${verdict.hierarchy}" there and write its release_agent (CVE-2022-0492: the kernel lacks the fix and seccomp allows unshare)`;
      throw new StartupCheckFailed(this.name, `a job could run commands as root on the host: ${how}`, {
        ...facts,
        via: verdict.via,
        hierarchy: verdict.hierarchy,
      });
    }
    if (verdict.kind === 'untestable') {
      throw new StartupCheckFailed(
        this.name,
        `cannot show that jobs are contained: ${verdict.reason}; set executor.startupCheckImage to an image with util-linux (e.g. debian:bookworm-slim), or keep user namespaces blocked (Docker's default seccomp profile does)`,
        facts,
      );
    }
    if (!outcome.stdout.includes(CONTAINED_LINE)) {
      throw new StartupCheckFailed(this.name, `the escape probe said contained but not "${CONTAINED_LINE}"`, facts);
    }
    return facts;
  }
}
