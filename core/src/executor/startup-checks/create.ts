import type { JobRunner, Logger } from '../../contracts/index.js';
import type { NvidiaToolkitCheckOptions } from './nvidia-toolkit.js';
import { StartupCheckSuite, type StartupChecks } from './suite.js';
import { STARTUP_CHECK_NAMES, StartupCheckFailed, type StartupCheck, type StartupCheckName } from './types.js';
import { StartupCheckSetupError } from './types.js';

export interface StartupCheckSettings {
  /** The checks to run (`executor.startupChecks`), or false for none: for local testing only. */
  readonly enabled: readonly StartupCheckName[] | false;
  /** Image the escape probe runs in (`executor.startupCheckImage`); default the job's image. */
  readonly image?: string;
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
    { DockerEngineCheck },
    { ContainerEscapeCheck },
    { NvidiaToolkitCheck },
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
  const early: StartupCheck[] = enabled.has('docker_engine') ? [new DockerEngineCheck(runner.docker)] : [];
  const late: StartupCheck[] = enabled.has('container_escape')
    ? [new ContainerEscapeCheck({ runner, ...(settings.image ? { image: settings.image } : {}) })]
    : [];
  const gpu = enabled.has('nvidia_toolkit') ? new NvidiaToolkitCheck(settings.nvidia) : null;
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
