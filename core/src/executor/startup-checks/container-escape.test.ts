// The CVE-2022-0492 escape check against the real test dockerd: it passes with the job runner's
// own container settings, and fails when the container is made unsafe.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { JobRunSpec } from '../../contracts/index.js';
import { docker, testImage } from '../../../../test/support/services.js';
import { DEFAULT_HARDENING, DockerJobRunner } from '../runners/docker.js';
import { buildNoShellImage, buildUnshareImage } from './__tests__/images.js';
import { ContainerEscapeCheck } from './container-escape.js';
import { StartupCheckFailed, type CheckContext } from './types.js';

const logger = pino({ level: 'silent' });

/** The job runner with extra HostConfig: what a careless operator's settings would add. */
class LoosenedRunner extends DockerJobRunner {
  private readonly extra: Dockerode.HostConfig;
  constructor(extra: Dockerode.HostConfig) {
    // A careless operator also turned the runner's own hardening off (capabilities kept).
    super({ docker: docker(), logger, hardening: { ...DEFAULT_HARDENING, dropCapabilities: false } });
    this.extra = extra;
  }
  protected override hostConfig(spec: JobRunSpec, binds: string[]): Dockerode.HostConfig {
    return { ...super.hostConfig(spec, binds), ...this.extra };
  }
}

const CAP_SYS_ADMIN_UNCONFINED: Dockerode.HostConfig = {
  CapAdd: ['SYS_ADMIN'],
  SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
};
const SECCOMP_UNCONFINED: Dockerode.HostConfig = { SecurityOpt: ['seccomp=unconfined'] };

describe('ContainerEscapeCheck (CVE-2022-0492)', () => {
  let workDir: string;
  let unshareImage: string | null;
  let noShellImage: string;

  beforeAll(async () => {
    unshareImage = await buildUnshareImage(docker(), testImage());
    noShellImage = await buildNoShellImage(docker());
  }, 120_000);
  afterAll(async () => {
    // The no-shell image stays: the e2e test uses it too, maybe at this moment (it is a few bytes).
    if (unshareImage)
      await docker()
        .getImage(unshareImage)
        .remove({ force: true })
        .catch(() => {});
  });
  beforeEach(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'horde-escape-'));
  });
  afterEach(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  function context(jobUuid = `t-${Date.now().toString(36)}`): CheckContext {
    return {
      jobUuid,
      executorClass: 'always_on.test',
      image: testImage(),
      timeLeftMs: () => 30_000,
      signal: new AbortController().signal,
      workDir,
      logger,
    };
  }

  async function probeContainers(jobUuid: string): Promise<number> {
    return (await docker().listContainers({ all: true, filters: { name: [`horde-${jobUuid}-escape-check`] } })).length;
  }

  async function failure(check: ContainerEscapeCheck): Promise<StartupCheckFailed> {
    const error = await check.run(context()).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StartupCheckFailed);
    return error as StartupCheckFailed;
  }

  it('passes with the job container settings horde uses, and leaves no container behind', async () => {
    const ctx = context();
    const facts = await new ContainerEscapeCheck({ runner: new DockerJobRunner({ docker: docker(), logger }) }).run(ctx);
    expect(facts).toMatchObject({ image: testImage(), userNamespaces: false });
    expect(facts.hierarchiesTried).toBeGreaterThan(0);
    expect(await probeContainers(ctx.jobUuid)).toBe(0);
  });

  it('fails when the job container gets CAP_SYS_ADMIN with seccomp and AppArmor unconfined', async () => {
    const error = await failure(new ContainerEscapeCheck({ runner: new LoosenedRunner(CAP_SYS_ADMIN_UNCONFINED) }));
    expect(error.check).toBe('container_escape');
    expect(error.message).toMatch(/^startup check container_escape failed: a job could run commands as root on the host/);
    expect(error.message).toMatch(/release_agent/);
    expect(error.facts).toMatchObject({ via: 'direct' });
  });

  it('fails closed when user namespaces are allowed (seccomp unconfined) and the image cannot try the rest', async () => {
    // BusyBox's unshare makes user namespaces but not cgroup namespaces: the CVE path cannot be tried.
    const error = await failure(new ContainerEscapeCheck({ runner: new LoosenedRunner(SECCOMP_UNCONFINED) }));
    expect(error.message).toMatch(/cannot show that jobs are contained: user namespaces can be created/);
    expect(error.message).toMatch(/startupCheckImage/);
    expect(error.facts).toMatchObject({ userNamespaces: true });
  });

  it('with util-linux unshare in the check image, tries the CVE-2022-0492 path itself', async (t) => {
    if (!unshareImage) t.skip('this machine has no util-linux unshare with --cgroup to build the image from');
    const image = unshareImage!;
    // Horde's settings: user namespaces are refused by the default seccomp profile.
    const safe = await new ContainerEscapeCheck({ runner: new DockerJobRunner({ docker: docker(), logger }), image }).run(context());
    expect(safe).toMatchObject({ image, userNamespaces: false });
    // Seccomp off: the probe creates user + mount + cgroup namespaces and mounts cgroup v1 there.
    // This kernel has the CVE fix, so no release_agent can be written: contained, after real tries.
    const loose = await new ContainerEscapeCheck({ runner: new LoosenedRunner(SECCOMP_UNCONFINED), image }).run(context());
    expect(loose).toMatchObject({ image, userNamespaces: true });
    expect(Number(loose.hierarchiesTried)).toBeGreaterThan(Number(safe.hierarchiesTried));
    // And CAP_SYS_ADMIN is caught with this image too.
    const error = await failure(new ContainerEscapeCheck({ runner: new LoosenedRunner(CAP_SYS_ADMIN_UNCONFINED), image }));
    expect(error.facts).toMatchObject({ via: 'direct' });
  });

  it('fails when the check image cannot run the probe (no /bin/sh)', async () => {
    const error = await failure(
      new ContainerEscapeCheck({ runner: new DockerJobRunner({ docker: docker(), logger }), image: noShellImage }),
    );
    expect(error.message).toMatch(/the escape probe gave no verdict in image localhost\/horde-no-shell:test/);
  });

  it('fails when there is no image to probe with', async () => {
    const check = new ContainerEscapeCheck({ runner: new DockerJobRunner({ docker: docker(), logger }) });
    const error = await check.run({ ...context(), image: null }).catch((e: unknown) => e);
    expect(error).toMatchObject({ check: 'container_escape', message: expect.stringMatching(/no image to run the probe in/) });
  });
});
