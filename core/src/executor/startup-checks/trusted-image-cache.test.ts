// The escape probe kept per boot with a trusted image (`executor.startupCheckImage`), against the
// real test dockerd, as an adversarial image author and an unlucky operator would try it:
//  (a) the kept pass is not used once the engine, the boot, the image behind the tag or the
//      runner's isolation changed;
//  (b) without a trusted image the probe runs per job in the job's image and nothing is kept;
//  (c) an image that lies to the probe cannot make a kept pass appear for a broken engine config.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Dockerode from 'dockerode';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { JobRunSpec } from '../../contracts/index.js';
import { docker, testImage } from '../../../../test/support/services.js';
import { currentOwner, DEFAULT_HARDENING, DockerJobRunner } from '../runners/docker.js';
import { buildLyingImage, buildNoShellImage } from './__tests__/images.js';
import { createStartupChecks, type StartupCheckSettings } from './create.js';
import { StartupCheckFailed, type CheckContext } from './types.js';

/** The check results the suite logs ("startup check passed"), as objects. */
const lines: Array<Record<string, unknown>> = [];
const logger = pino(
  { level: 'info' },
  new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  }),
);
const passes = () => lines.filter((line) => line.check === 'container_escape' && String(line.msg).startsWith('startup check passed'));

/** The runner with CAP_SYS_ADMIN and seccomp/AppArmor off: a broken engine config for jobs. */
class LoosenedRunner extends DockerJobRunner {
  protected override hostConfig(spec: JobRunSpec, binds: string[]): Dockerode.HostConfig {
    return { ...super.hostConfig(spec, binds), CapAdd: ['SYS_ADMIN'], SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'] };
  }
}

/**
 * The test engine as it describes itself after a restart with seccomp turned off. The shared test
 * engine serves other test runs and cannot be restarted here, so only its `/info` answer changes;
 * containers still run on it for real.
 */
class ReconfiguredEngine extends Dockerode {
  override async info(): Promise<unknown> {
    const info = (await docker().info()) as { SecurityOptions?: string[] };
    return { ...info, SecurityOptions: (info.SecurityOptions ?? []).filter((option) => !option.includes('seccomp')) };
  }
}

const TRUSTED_TAG = `localhost/horde-trusted-probe:cold-${process.pid}`;
let root: string;
let cacheDir: string;
let lyingImage: string;
let noShellImage: string;

beforeAll(async () => {
  lyingImage = await buildLyingImage(docker(), testImage());
  noShellImage = await buildNoShellImage(docker());
  await docker()
    .getImage(testImage())
    .tag({ repo: TRUSTED_TAG.split(':').slice(0, -1).join(':'), tag: TRUSTED_TAG.split(':').at(-1)! });
}, 180_000);
afterAll(async () => {
  await docker()
    .getImage(TRUSTED_TAG)
    .remove()
    .catch(() => {});
});
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'horde-trusted-cache-'));
  cacheDir = join(root, 'cache');
  lines.length = 0;
  return () => rm(root, { recursive: true, force: true });
});

function runner(options: { engine?: Dockerode; bootId?: string; loose?: boolean } = {}): DockerJobRunner {
  const owner = { ...currentOwner(), ...(options.bootId ? { bootId: options.bootId } : {}) };
  const Runner = options.loose ? LoosenedRunner : DockerJobRunner;
  return new Runner({
    docker: options.engine ?? docker(),
    logger,
    owner,
    ...(options.loose ? { hardening: { ...DEFAULT_HARDENING, dropCapabilities: false } } : {}),
  });
}

/** One job's late startup checks (the probe), as the job driver runs them. */
async function job(jobRunner: DockerJobRunner, image: string, trusted?: string): Promise<void> {
  const settings: StartupCheckSettings = { enabled: ['container_escape'], cacheDir, ...(trusted ? { image: trusted } : {}) };
  const suite = await createStartupChecks(jobRunner, settings, logger);
  const workDir = await mkdtemp(join(root, 'job-'));
  const context: CheckContext = {
    jobUuid: `cold-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`,
    executorClass: 'always_on.test',
    image,
    timeLeftMs: () => 30_000,
    signal: new AbortController().signal,
    workDir,
    logger,
  };
  await suite.afterImage(context);
}

async function failure(promise: Promise<void>): Promise<StartupCheckFailed> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StartupCheckFailed);
  return error as StartupCheckFailed;
}

describe('escape probe kept per boot in a trusted image', () => {
  it('runs once per boot and engine, then is taken from the cache', async () => {
    await job(runner(), testImage(), TRUSTED_TAG);
    await job(runner(), testImage(), TRUSTED_TAG);
    expect(passes().map((line) => line.cached)).toEqual([false, true]);
    expect(passes()[1]).toMatchObject({ image: TRUSTED_TAG });
  });

  it('(a) runs again when the engine, the boot, the image behind the tag or the isolation changed', async () => {
    const last = () => passes().at(-1);
    await job(runner(), testImage(), TRUSTED_TAG);
    expect(last()).toMatchObject({ cached: false });
    // The same socket, an engine that now reports no seccomp filter.
    const socketPath = (docker().modem as { socketPath: string }).socketPath;
    await job(runner({ engine: new ReconfiguredEngine({ socketPath }) }), testImage(), TRUSTED_TAG);
    expect(last()).toMatchObject({ cached: false });
    // A reboot.
    await job(runner({ bootId: 'another-boot' }), testImage(), TRUSTED_TAG);
    expect(last()).toMatchObject({ cached: false });
    // The tag moved to another image (a push to the registry, a rebuild): its id differs, and the
    // probe runs in what the tag names now.
    const repo = TRUSTED_TAG.split(':').slice(0, -1).join(':');
    const tag = TRUSTED_TAG.split(':').at(-1)!;
    await docker().getImage(noShellImage).tag({ repo, tag });
    try {
      const error = await failure(job(runner(), testImage(), TRUSTED_TAG));
      expect(error.message).toMatch(/gave no verdict in image localhost\/horde-trusted-probe/);
    } finally {
      await docker().getImage(testImage()).tag({ repo, tag });
    }
    // Other isolation settings (limits) are another runner.
    const limited = new DockerJobRunner({ docker: docker(), logger, defaultLimits: { pids: 64, memoryBytes: 256 * 1024 * 1024 } });
    await job(limited, testImage(), TRUSTED_TAG);
    expect(last()).toMatchObject({ cached: false });
    expect(passes()).toHaveLength(4);
    // And the first setup, back as it was, still finds its own pass.
    await job(runner(), testImage(), TRUSTED_TAG);
    expect(last()).toMatchObject({ cached: true });
  });

  it('(b) without a trusted image, the probe runs per job in the job image and nothing is kept', async () => {
    await job(runner(), testImage());
    await job(runner(), testImage());
    expect(passes()).toHaveLength(2);
    expect(passes().every((line) => line.image === testImage() && line.cached === undefined)).toBe(true);
    // A job image the probe cannot run in fails its own job, right after passes in another image.
    const error = await failure(job(runner(), noShellImage));
    expect(error.message).toMatch(/gave no verdict in image localhost\/horde-no-shell:test/);
    expect(await readdir(cacheDir).catch(() => [])).toEqual([]);
  });

  it('(c) an image that lies to the probe cannot make the trusted-image cache pass a broken engine config', async () => {
    // A careless operator's config lets containers mount cgroup v1: jobs could escape.
    const broken = () => runner({ loose: true });
    // The probe in the job's own image believes the lie (this is why a trusted image matters)…
    await job(broken(), lyingImage);
    expect(passes()).toHaveLength(1);
    // …but keeps nothing: with the trusted image the probe runs there and finds the escape.
    const error = await failure(job(broken(), lyingImage, TRUSTED_TAG));
    expect(error.message).toMatch(/a job could run commands as root on the host/);
    expect(error.facts).toMatchObject({ image: TRUSTED_TAG, via: 'direct' });
    // A pass kept for the safe config does not cover the broken one either.
    await job(runner(), lyingImage, TRUSTED_TAG);
    expect(passes().at(-1)).toMatchObject({ cached: false, image: TRUSTED_TAG });
    await failure(job(broken(), lyingImage, TRUSTED_TAG));
    // And a failure is never kept: the next job finds it again.
    await failure(job(broken(), lyingImage, TRUSTED_TAG));
  });
});
