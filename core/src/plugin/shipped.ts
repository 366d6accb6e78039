/**
 * The plugins and executor managers this repository ships (its workspace packages), for a "did you
 * mean" when a config names one with a typo. A test checks the list against the workspace.
 */
export const SHIPPED_PLUGINS = [
  '@horde/plugin-hardware-classes',
  '@horde/plugin-dancing',
  '@horde/plugin-job-hash-crack',
  '@horde/plugin-job-llm-prompts',
  '@horde/plugin-job-gpu-matmul',
  '@horde/plugin-scoring-classic',
  '@horde/plugin-scoring-allowance',
  '@horde/executor-manager-local',
  '@horde/executor-manager-ssh',
  '@horde/executor-manager-vast',
] as const;

/** The npm scope of the shipped packages: a name in it that is not shipped is a typo, not a package to install. */
export const SHIPPED_SCOPE = '@horde/';
