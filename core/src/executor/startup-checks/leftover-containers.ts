import type Dockerode from 'dockerode';
import { z } from 'zod';
import type { Logger } from '../../contracts/index.js';
import { JobRunnerError } from '../runners/errors.js';
import { currentOwner, JOB_CONTAINER_NAME, JOB_NETWORK_NAME, OWNER_LABELS, type ContainerOwner } from '../runners/docker.js';

const containerSummarySchema = z.looseObject({
  Id: z.string(),
  Names: z.array(z.string()).default([]),
  State: z.string().optional(),
  Labels: z.record(z.string(), z.string()).nullish(),
});
type ContainerSummary = z.output<typeof containerSummarySchema>;

export interface LeftoverCleanup {
  /** Names of the containers removed. */
  readonly removed: string[];
  /** Job containers left alone because their executor may still be running them. */
  readonly kept: number;
}

/** True when the process is there (EPERM: there, but someone else's). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Why a job container is a leftover, or null when its executor may still need it:
 *  - no owner labels: made by a runner that did not label (the original removes every such one);
 *  - made on this host before the last reboot, or by a process of this boot that is gone.
 * A container of another host (another executor container on the same engine) is left alone:
 * this process cannot see whether its owner lives.
 */
export function leftoverReason(
  labels: Readonly<Record<string, string>>,
  self: ContainerOwner,
  alive: (pid: number) => boolean = processAlive,
): string | null {
  const host = labels[OWNER_LABELS.host];
  const pid = Number(labels[OWNER_LABELS.pid]);
  if (host === undefined || !Number.isInteger(pid) || pid <= 0) return 'no owner labels';
  if (host !== self.host) return null;
  const bootId = labels[OWNER_LABELS.bootId] ?? '';
  if (bootId && self.bootId && bootId !== self.bootId) return 'owner ran before the last reboot';
  if (pid === self.pid) return null;
  return alive(pid) ? null : `owner process ${pid} is gone`;
}

/**
 * The original's startup clean-up (`ch-*-job` containers of earlier runs), made safe for several
 * executors sharing one engine: removes `horde-*-job` containers whose executor is gone.
 */
export async function removeLeftoverJobContainers(
  docker: Dockerode,
  logger: Logger,
  self: ContainerOwner = currentOwner(),
): Promise<LeftoverCleanup> {
  const raw: unknown = await docker.listContainers({ all: true, filters: { name: ['horde-'] } });
  const listed = z.array(containerSummarySchema).safeParse(raw);
  if (!listed.success) throw new JobRunnerError(`the Docker engine's container list is not what an engine sends: ${listed.error.message}`);
  const removed: string[] = [];
  let kept = 0;
  for (const container of listed.data) {
    const name = container.Names.find((n) => JOB_CONTAINER_NAME.test(n));
    if (!name) continue; // `horde-` somewhere in another container's name
    const reason = leftoverReason(container.Labels ?? {}, self);
    if (reason === null) {
      kept += 1;
      continue;
    }
    await removeQuietly(docker, container, logger);
    logger.info({ container: name.replace(/^\//, ''), state: container.State, reason }, 'removed a leftover job container');
    removed.push(name.replace(/^\//, ''));
  }
  return { removed, kept };
}

const networkSummarySchema = z.looseObject({
  Id: z.string(),
  Name: z.string(),
  Labels: z.record(z.string(), z.string()).nullish(),
});

/**
 * Streaming jobs' networks (`horde-{jobUuid}-net`) whose executor is gone, the original's `ch-*`
 * network clean-up with the same owner rule as the containers. Run after the containers: a
 * network still in use by a container cannot be removed (the engine refuses; logged, kept).
 */
export async function removeLeftoverJobNetworks(
  docker: Dockerode,
  logger: Logger,
  self: ContainerOwner = currentOwner(),
): Promise<LeftoverCleanup> {
  const raw: unknown = await docker.listNetworks({ filters: { name: ['horde-'] } });
  const listed = z.array(networkSummarySchema).safeParse(raw);
  if (!listed.success) throw new JobRunnerError(`the Docker engine's network list is not what an engine sends: ${listed.error.message}`);
  const removed: string[] = [];
  let kept = 0;
  for (const network of listed.data) {
    if (!JOB_NETWORK_NAME.test(network.Name)) continue;
    const reason = leftoverReason(network.Labels ?? {}, self);
    if (reason === null) {
      kept += 1;
      continue;
    }
    try {
      await docker.getNetwork(network.Id).remove();
      logger.info({ network: network.Name, reason }, 'removed a leftover job network');
      removed.push(network.Name);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404)
        logger.warn({ err: error, network: network.Name }, 'could not remove a leftover job network');
    }
  }
  return { removed, kept };
}

async function removeQuietly(docker: Dockerode, container: ContainerSummary, logger: Logger): Promise<void> {
  try {
    await docker.getContainer(container.Id).remove({ force: true, v: true });
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    // 404: gone meanwhile; 409: already being removed.
    if (status !== 404 && status !== 409) {
      logger.warn({ err: error, container: container.Id }, 'could not remove a leftover job container');
    }
  }
}
