import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXECUTOR_MANAGER, PluginError } from '@horde/core';
import { registerPluginForTest, runExecutorManagerContract } from '@horde/core/testkit';
import plugin from './index.js';

/** Registers the plugin the way a horde process does: apiRange and config are checked first. */
const load = (config: Record<string, unknown> = {}) => registerPluginForTest(plugin, { config });

describe('{{packageName}}', () => {
  it('declares the version in package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(plugin.version).toBe(pkg.version);
  });

  it('declares the configured class and count in its manifest', async () => {
    const manager = (await load({ executorClass: 'always_on.cpu.8c.16gb', executors: 3 })).single(EXECUTOR_MANAGER);
    expect(await manager?.manifest()).toEqual({ 'always_on.cpu.8c.16gb': 3 });
  });

  it('refuses a bad config value, naming the key', async () => {
    await expect(load({ executors: -1 })).rejects.toThrow(PluginError);
    await expect(load({ executors: -1 })).rejects.toThrow(/executors/);
  });
});

// The semantics the miner's executor pool relies on: start, poll, kill (with everything the
// executor started), close. The suite starts a small Node program instead of a real agent.
runExecutorManagerContract({
  name: '{{packageName}}',
  create: async () => {
    const manager = (await load({ executorClass: 'always_on.test', executors: 2, killGraceMs: 2_000 })).single(EXECUTOR_MANAGER);
    if (!manager) throw new Error('the plugin provided no executor manager');
    return manager;
  },
});
