import { describe, expect, it } from 'vitest';
import { agentSettingsFromEnv, isExecutorLaunch } from './agent-settings.js';
import { ConfigError } from './errors.js';
import { executorSection } from './sections/executor.js';

describe('executor agent settings from a miner launch', () => {
  it('is a launch only when HORDE_EXECUTOR is set and no config file is named', () => {
    expect(isExecutorLaunch({ HORDE_EXECUTOR: '{}' })).toBe(true);
    expect(isExecutorLaunch({})).toBe(false);
    expect(isExecutorLaunch({ HORDE_EXECUTOR: '{}' }, 'horde.config.yaml')).toBe(false);
    expect(isExecutorLaunch({ HORDE_EXECUTOR: '{}', HORDE_CONFIG: '/etc/horde.yaml' })).toBe(false);
  });

  it("reads the miner's whole executor section and log overrides, and ignores other roles' variables", () => {
    const minerSection = executorSection.parse({
      runner: 'process',
      startupCheckImage: 'debian:bookworm-slim',
      egressAllowlist: ['127.0.0.1/32'],
    });
    const settings = agentSettingsFromEnv({
      HORDE_EXECUTOR: JSON.stringify(minerSection),
      HORDE_LOG__LEVEL: 'warn',
      HORDE_MINER__PORT: '9999', // the miner's own: not the agent's business, and no error
    });
    expect(settings.executor).toEqual(minerSection);
    expect(settings.log.level).toBe('warn');
  });

  it('fills in every default for what the environment leaves out', () => {
    const settings = agentSettingsFromEnv({ HORDE_EXECUTOR: '{}' });
    expect(settings.executor).toEqual(executorSection.parse({}));
    expect(settings.log.level).toBe('info');
  });

  it('refuses a bad value with a ConfigError that names the variable', () => {
    const error = (() => {
      try {
        agentSettingsFromEnv({ HORDE_EXECUTOR: JSON.stringify({ runner: 'podman' }) });
      } catch (caught) {
        return caught;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'HORDE_CONFIG_INVALID' });
    expect(String((error as ConfigError).message) + JSON.stringify(error)).toMatch(/runner/);
  });
});
