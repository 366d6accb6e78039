import { describe, expect, it } from 'vitest';
import { EXECUTOR_MANAGER } from '@horde/core';
import { registerPluginForTest } from '@horde/core/testkit';
import plugin from './index.js';

/** Registers the plugin the way the miner does, with `config` as its section. */
const register = (config: Record<string, unknown>) => registerPluginForTest(plugin, { config });

const host = (executorClass: string) => ({
  host: 'gpu.example.com',
  username: 'horde',
  privateKeyPath: '/etc/horde/key',
  executorClass,
  hostKeySha256: `SHA256:${'x'.repeat(43)}`,
});

describe('@horde/executor-manager-ssh plugin', () => {
  it('provides an executor manager whose manifest counts the configured hosts per class', async () => {
    const loaded = await register({ hosts: [host('always_on.llm.a6000'), host('always_on.llm.a6000'), host('always_on.cpu.8c.16gb')] });
    const manager = loaded.single(EXECUTOR_MANAGER);
    expect(await manager?.manifest()).toEqual({ 'always_on.llm.a6000': 2, 'always_on.cpu.8c.16gb': 1 });
  });

  it('fails at load, naming the plugin and the key, when a host has no trusted host key', async () => {
    const { hostKeySha256: _, ...noHostKey } = host('always_on.test');
    const error = await register({ hosts: [noHostKey] }).catch((caught: unknown) => caught as Error & { code: string });
    expect(error).toMatchObject({ code: 'HORDE_PLUGIN_CONFIG_INVALID' });
    expect(error.message).toContain('@horde/executor-manager-ssh');
    expect(error.message).toContain('hostKeySha256');
  });
});
