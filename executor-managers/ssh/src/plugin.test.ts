import { describe, expect, it } from 'vitest';
import {
  createMetricsRegistry,
  createRuntimeContainer,
  EXECUTOR_MANAGER,
  parseConfig,
  registerPlugins,
  silentLogger,
} from '@horde/core';
import plugin from './index.js';

/** Registers the plugin the way the miner does, with `config` as its section. */
async function register(config: Record<string, unknown>) {
  const hordeConfig = parseConfig({}, { baseDir: '/tmp' });
  const root = createRuntimeContainer({
    config: hordeConfig,
    logger: silentLogger(),
    metrics: createMetricsRegistry({ defaultMetrics: false }),
    clock: { now: () => 0, sleep: async () => {} },
  });
  return registerPlugins([{ plugin, config }], root, hordeConfig);
}

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
    expect(error).toMatchObject({ code: 'PLUGIN_CONFIG_INVALID' });
    expect(error.message).toContain('@horde/executor-manager-ssh');
    expect(error.message).toContain('hostKeySha256');
  });
});
