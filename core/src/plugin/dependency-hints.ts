import {
  CHAIN,
  DANCING_STRATEGY,
  EXECUTOR_MANAGER,
  HARDWARE_CLASS,
  JOB_GENERATOR,
  JOB_RUNNER,
  OBJECT_STORE,
  SCORING_RULE,
  STORE,
  tokenName,
} from '../contracts/index.js';

/** Shipped plugins that provide a contract, for the "add …" of a missing dependency. */
export const SHIPPED_PROVIDERS = new Map<symbol, readonly string[]>([
  [EXECUTOR_MANAGER, ['@horde/executor-manager-local', '@horde/executor-manager-ssh', '@horde/executor-manager-vast']],
  [HARDWARE_CLASS, ['@horde/plugin-hardware-classes']],
  [JOB_GENERATOR, ['@horde/plugin-job-hash-crack', '@horde/plugin-job-llm-prompts', '@horde/plugin-job-gpu-matmul']],
  [SCORING_RULE, ['@horde/plugin-scoring-classic', '@horde/plugin-scoring-allowance']],
  [DANCING_STRATEGY, ['@horde/plugin-dancing']],
]);

/** Where a missing dependency would come from, in words the operator can act on. */
export function missingDependencyHint(token: symbol, loaded: readonly string[]): string {
  if (token === OBJECT_STORE) return 'Set objectStore (an S3 bucket) in the config, or add a plugin that provides ObjectStore.';
  if (token === STORE || token === CHAIN) {
    return `${tokenName(token)} exists only in a process that runs a role (miner, validator, facilitator); a plugin used elsewhere cannot depend on it.`;
  }
  if (token === JOB_RUNNER) return "JobRunner is the executor agent's (docker or process runner); add a plugin that provides JobRunner.";
  const shipped = (SHIPPED_PROVIDERS.get(token) ?? []).filter((name) => !loaded.includes(name));
  if (shipped.length)
    return `Add ${shipped.map((name) => `"${name}"`).join(' or ')} to plugins (or another plugin that provides ${tokenName(token)}).`;
  return `Add a plugin that provides ${tokenName(token)} to plugins.`;
}
