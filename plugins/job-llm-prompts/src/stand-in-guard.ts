import { defineError } from '@horde/core';
import { DEFAULT_IMAGE } from './generator.js';

/** Images whose "answers" come from the stand-in word generator (`job/solve.mjs`), not a model. */
export const STAND_IN_IMAGES: readonly string[] = [DEFAULT_IMAGE];

/** A validator config that would pay a GPU class for stand-in answers, which any CPU produces. */
export class StandInSolverError extends defineError('HORDE_LLM_STAND_IN_OUTSIDE_DEVNET') {}

export interface SolverDeployment {
  /**
   * `role` of the config. Not required to be `validator`: a validator config need not say so
   * (`horde validator` sets it), and only validators load this plugin. `devnet` is always allowed.
   */
  readonly role: string;
  /** `chain.network`: `local` is the devnet's (and tests') embedded chain. */
  readonly network: string;
  readonly image: string;
  readonly executorClasses: readonly string[];
}

/**
 * Whether a class id names a GPU class. Decided from the id because plugins register before any
 * class is resolvable: only the test class and `…cpu…` classes (ComputeHorde's naming) are CPU
 * classes; anything else, a plugin's own class included, is taken to be a GPU class.
 */
export function isGpuClassId(id: string): boolean {
  return id !== 'always_on.test' && !/(^|\.)cpu(\.|$)/.test(id);
}

/**
 * Refuses a validator config on a real chain (anything but `local`) whose prompt solver is the stand-in
 * for a GPU class: its "ground truth" comes from the stand-in too, so a miner would prove an A6000
 * with any CPU. The devnet and tests run on the local chain and keep the stand-in.
 */
export function refuseStandInOutsideDevnet(deployment: SolverDeployment): void {
  if (deployment.role === 'devnet' || deployment.network === 'local') return;
  if (!STAND_IN_IMAGES.includes(deployment.image)) return;
  const gpuClasses = deployment.executorClasses.filter(isGpuClassId);
  if (gpuClasses.length === 0) return;
  throw new StandInSolverError(
    `image ${deployment.image} is the stand-in prompt solver (a word generator, no model), and this validator on ${deployment.network} would accept its answers as proof of ${gpuClasses.join(', ')}: ` +
      `any CPU could pass. Set the plugin's image to a real solver (build plugins/job-llm-prompts/job/Dockerfile.vllm, e.g. horde/job-llm-prompts:1-vllm), ` +
      `or run on the local chain (the devnet) to keep the stand-in.`,
  );
}
