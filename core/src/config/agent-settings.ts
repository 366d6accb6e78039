import { z } from 'zod';
import { applyEnvOverrides, readEnvOverrides } from './env.js';
import { ConfigError } from './errors.js';
import { formatIssues } from './format-issues.js';
import { executorSection, type ExecutorSection } from './sections/executor.js';
import { logSection, type LogSection } from './sections/log.js';

/** The two sections an executor agent reads; nothing else of the config concerns it. */
const agentSettingsSchema = z.strictObject({
  executor: executorSection.prefault({}),
  log: logSection.prefault({}),
});

export interface AgentSettings {
  readonly executor: ExecutorSection;
  readonly log: LogSection;
}

/**
 * True when the environment is a miner's executor launch (`executorLaunch` puts the miner's whole
 * `executor` section in `HORDE_EXECUTOR`) and no config file was named (`--config`, `HORDE_CONFIG`).
 * The agent then takes its settings from the environment alone: the miner's section is the one
 * the agent must run with, and finding and parsing a config file (cosmiconfig, YAML, every
 * section's schema) would cost a cold job's critical path ~50 ms for nothing.
 */
export function isExecutorLaunch(env: NodeJS.ProcessEnv, configPath?: string): boolean {
  return configPath === undefined && env['HORDE_CONFIG'] === undefined && env['HORDE_EXECUTOR'] !== undefined;
}

/**
 * The agent's settings from `HORDE_EXECUTOR` / `HORDE_LOG` / `HORDE_EXECUTOR__…` / `HORDE_LOG__…`,
 * read and validated like the same variables over a config file; other `HORDE_*` variables are
 * ignored (they belong to other roles). Throws `ConfigError` (`HORDE_CONFIG_INVALID`) listing
 * every problem, as `loadConfig` does.
 */
export function agentSettingsFromEnv(env: NodeJS.ProcessEnv): AgentSettings {
  const overrides = readEnvOverrides(env, agentSettingsSchema);
  const result = agentSettingsSchema.safeParse(applyEnvOverrides({}, overrides), { reportInput: true });
  if (!result.success) {
    throw new ConfigError(
      'HORDE_CONFIG_INVALID',
      'Invalid executor settings in the environment:',
      formatIssues(result.error.issues, { schema: agentSettingsSchema, fileLabel: 'the environment', envSources: overrides.sources }),
    );
  }
  return result.data;
}
