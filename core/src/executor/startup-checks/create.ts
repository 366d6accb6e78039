import type { JobRunner, Logger } from '../../contracts/index.js';
import type { DockerJobRunner } from '../runners/docker.js';
import type { BootCacheKey } from './boot-cache.js';
import type { NvidiaToolkitCheckOptions } from './nvidia-toolkit.js';
import { StartupCheckSuite, type StartupChecks } from './suite.js';
import { STARTUP_CHECK_NAMES, StartupCheckFailed, type StartupCheck, type StartupCheckName } from './types.js';
import { StartupCheckSetupError } from './types.js';

export interface StartupCheckSettings {
  /** The checks to run (`executor.startupChecks`), or false for none: for local testing only. */
  readonly enabled: readonly StartupCheckName[] | false;
  /**
   * Image the escape probe runs in (`executor.startupCheckImage`); default the job's image. With
   * one set, the probe's pass is kept for the rest of the boot (see `boot-cache.ts`).
   */
  readonly image?: string;
  /** Where passes kept per boot go; default `defaultBootCacheDir()`. */
  readonly cacheDir?: string;
  /** Where the GPU check looks for the toolkit's programs (tests put fakes on PATH). */
  readonly nvidia?: NvidiaToolkitCheckOptions;
}

export const DEFAULT_STARTUP_CHECKS: StartupCheckSettings = { enabled: STARTUP_CHECK_NAMES };

/**
 * The startup checks for this runner. The docker runner gets the enabled ones; the process runner
 * gets none, because they are about containers and it runs none (it says so once in the log). The
 * docker modules are imported here, lazily, so a process-runner executor never loads dockerode.
 */
export async function createStartupChecks(runner: JobRunner, settings: StartupCheckSettings, logger: Logger): Promise<StartupChecks> {
  if (runner.name !== 'docker') {
    logger.info(
      { runner: runner.name },
      'startup checks do not apply: the process runner runs jobs as local processes, not containers (no isolation to check)',
    );
    return new StartupCheckSuite({ logger });
  }
  const [
    { DockerJobRunner },
    { DockerEngineCheck, engineIdentity },
    { ContainerEscapeCheck },
    { NvidiaToolkitCheck, toolkitIdentity },
    { removeLeftoverJobContainers, removeLeftoverJobNetworks },
  ] = await Promise.all([
    import('../runners/docker.js'),
    import('./docker-engine.js'),
    import('./container-escape.js'),
    import('./nvidia-toolkit.js'),
    import('./leftover-containers.js'),
  ]);
  if (!(runner instanceof DockerJobRunner)) {
    throw new StartupCheckSetupError(`a runner named docker must be a DockerJobRunner to be checked (got ${runner.constructor.name})`);
  }
  const cleanup = async () => {
    await removeLeftoverJobContainers(runner.docker, logger, runner.owner);
    await removeLeftoverJobNetworks(runner.docker, logger, runner.owner);
  };
  if (settings.enabled === false) {
    logger.warn('startup checks are disabled (executor.startupChecks = false): for local testing only, never on a miner that takes jobs');
    return new StartupCheckSuite({ cleanup, logger });
  }
  const enabled = new Set(settings.enabled);
  // One `GET /info` per job (a suite serves one job): the engine check reads it, and so does the
  // key of a pass kept per boot, a few milliseconds later in the same startup stage.
  let infoOfThisJob: Promise<unknown> | null = null;
  const engineInfo = (): Promise<unknown> => (infoOfThisJob ??= runner.docker.info() as Promise<unknown>);
  const early: StartupCheck[] = enabled.has('docker_engine') ? [new DockerEngineCheck(runner.docker, engineInfo)] : [];
  const { CachedPerBootCheck, StartupCheckBootCache, defaultBootCacheDir } = await import('./boot-cache.js');
  const cache = new StartupCheckBootCache({ dir: settings.cacheDir ?? defaultBootCacheDir(), logger });
  const late: StartupCheck[] = [];
  if (enabled.has('container_escape')) {
    const probe = new ContainerEscapeCheck({ runner, ...(settings.image ? { image: settings.image } : {}) });
    // In the job's image the probe runs per job and nothing is kept: an image can be built to lie
    // to it (a /bin/sh that prints the contained verdict), and a lie must not outlive its job. In
    // the operator's trusted image its answer depends only on the boot, the engine, that image
    // and the runner's isolation: it runs once per boot for each of them.
    if (settings.image) {
      const image = settings.image;
      late.push(new CachedPerBootCheck(probe, cache, () => escapeProbeKey(runner, image, engineInfo, engineIdentity)));
    } else {
      late.push(probe);
    }
  }
  // A host check: its answer depends on the toolkit's files only, so a pass is kept per boot and
  // taken again while the programs on PATH are the same files (a GPU job saves three subprocesses).
  const gpu = enabled.has('nvidia_toolkit')
    ? new CachedPerBootCheck(new NvidiaToolkitCheck(settings.nvidia), cache, async () =>
        runner.owner.bootId
          ? { check: 'nvidia_toolkit', bootId: runner.owner.bootId, programs: await toolkitIdentity(settings.nvidia?.env) }
          : null,
      )
    : null;
  const checkImage = settings.image;
  const suite = new StartupCheckSuite({
    early,
    late,
    gpu,
    cleanup,
    ...(checkImage
      ? {
          prepareCheckImage: async (context) => {
            if (checkImage === context.image) return;
            try {
              await runner.prepare(checkImage);
            } catch (error) {
              throw new StartupCheckFailed(
                'container_escape',
                `the check image ${checkImage} is not available: ${(error as Error).message}`,
                { image: checkImage },
                { cause: error },
              );
            }
          },
        }
      : {}),
    logger,
  });
  logger.info({ checks: suite.names, checkImage: checkImage ?? 'the job image' }, 'startup checks enabled');
  return suite;
}

/**
 * What the escape probe's answer in the trusted image depends on: the boot, the engine (behind
 * which socket, and as `docker info` describes it), the image's id and the runner's isolation.
 * Null (the probe runs, nothing is kept) when any of it cannot be known.
 */
async function escapeProbeKey(
  runner: DockerJobRunner,
  image: string,
  engineInfo: () => Promise<unknown>,
  engineIdentity: (info: unknown) => Record<string, unknown> | null,
): Promise<BootCacheKey | null> {
  if (!runner.owner.bootId) return null;
  try {
    const [info, imageId] = await Promise.all([engineInfo(), runner.imageId(image)]);
    const engine = engineIdentity(info);
    if (!engine) return null;
    const modem = runner.docker.modem as { socketPath?: unknown; host?: unknown; port?: unknown };
    return {
      check: 'container_escape',
      bootId: runner.owner.bootId,
      endpoint: { socketPath: modem.socketPath ?? null, host: modem.host ?? null, port: modem.port ?? null },
      engine,
      image: { ref: image, id: imageId },
      isolation: runner.isolationFingerprint(),
    };
  } catch {
    return null; // the probe itself reports what is wrong with the engine or the image
  }
}
