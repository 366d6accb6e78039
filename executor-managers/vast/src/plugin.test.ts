import { describe, expect, it } from 'vitest';
import { EXECUTOR_MANAGER } from '@horde/core';
import { registerPluginForTest } from '@horde/core/testkit';
import plugin from './index.js';

/** Registers the plugin the way the miner does, with `config` as its section. */
const register = (config: Record<string, unknown>) => registerPluginForTest(plugin, { config });

const base = {
  apiKey: 'key',
  image: 'ghcr.io/acme/horde-executor:0.1.0',
  ssh: { privateKeyPath: '/etc/horde/vast_ed25519' },
  classes: {
    'spin_up-4min.gpu-24gb': { maxInstances: 3, gpuName: 'RTX_4090' },
    'always_on.llm.a6000': { maxInstances: 1, gpuName: 'RTX_A6000' },
  },
};

describe('@horde/executor-manager-vast plugin', () => {
  it('provides an executor manager whose manifest is maxInstances per class, renting nothing up front', async () => {
    const loaded = await register(base);
    expect(await loaded.single(EXECUTOR_MANAGER)?.manifest()).toEqual({ 'spin_up-4min.gpu-24gb': 3, 'always_on.llm.a6000': 1 });
  });

  it('fails at load, naming the plugin and the key, without an API key', async () => {
    const { apiKey: _, ...noKey } = base;
    const error = await register(noKey).catch((caught: unknown) => caught as Error & { code: string });
    expect(error).toMatchObject({ code: 'HORDE_PLUGIN_CONFIG_INVALID' });
    expect(error.message).toContain('@horde/executor-manager-vast');
    expect(error.message).toContain('apiKey');
  });
});
