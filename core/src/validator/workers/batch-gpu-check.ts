import type { Logger } from '../../contracts/index.js';
import { refuseSharedGpus } from '../gpu-registry.js';
import type { MinerTarget } from '../miner-client.js';
import type { ValidatorStore } from '../store.js';

/**
 * One GPU, one credit over a whole batch in worker mode. Each task checks its own jobs (batch.ts),
 * but a batch's tasks run on different workers, so a card served by two coldkeys whose miners land
 * in different tasks is seen by no task. The leader runs this once every task has ended and before
 * the batch is recorded finished (scoring reads finished batches only): it reads the GPU UUIDs the
 * jobs reported back from the store and takes the credit of every job on a shared card. A new
 * leader that resumes the batch runs it again; jobs refused already are left as they are.
 *
 * Resolves with the number of jobs it refused.
 */
export async function refuseSharedGpusAcrossTasks(
  store: ValidatorStore,
  cycle: number,
  targets: readonly MinerTarget[],
  logger: Logger,
): Promise<number> {
  const coldkeys = new Map(targets.map((target) => [target.hotkey, target.coldkey ?? target.hotkey]));
  const jobs = await store.jobsWithGpus(cycle);
  const { refused, shared } = refuseSharedGpus(jobs, (hotkey) => coldkeys.get(hotkey) ?? hotkey);
  for (const job of refused) await store.refuseJobCredit(job.jobUuid, job.correct, job.details);
  for (const gpu of shared)
    if (refused.some((job) => job.details.startsWith(`GPU ${gpu.uuid} `)))
      logger.warn(
        { cycle, gpuUuid: gpu.uuid, servedBy: Object.fromEntries(gpu.servedBy) },
        'one GPU served by miners of different coldkeys in different tasks of the batch; their jobs on it get no credit',
      );
  return refused.length;
}
