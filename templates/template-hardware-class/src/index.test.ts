import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HARDWARE_CLASS, PluginError } from '@horde/core';
import { registerPluginForTest } from '@horde/core/testkit';
import plugin from './index.js';

/** Registers the plugin the way a horde process does: apiRange and config are checked first. */
const load = (config: Record<string, unknown> = {}) => registerPluginForTest(plugin, { config });

describe('{{packageName}}', () => {
  it('declares the version in package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(plugin.version).toBe(pkg.version);
  });

  it('provides one well-formed hardware class', async () => {
    const loaded = await load();
    const classes = loaded.all(HARDWARE_CLASS);
    expect(classes).toHaveLength(1);
    const [hardwareClass] = classes;
    expect(hardwareClass?.id).toMatch(/^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/);
    expect(hardwareClass?.shortCode).toMatch(/^[A-Z]$/);
    expect(hardwareClass?.spinUpSeconds).toBeGreaterThan(0);
    // GPU classes get the GPUs in the job container, the others none.
    expect(hardwareClass?.dockerPreset).toBe(hardwareClass?.resources.gpu ? 'nvidia_all' : 'none');
    expect(hardwareClass?.proof).toEqual({ jobGenerators: ['hash-crack'], maxJobSeconds: 60 });
    expect(loaded.plugins[0]?.provides).toEqual([{ contract: 'HardwareClass', count: 1 }]);
  });

  it('takes the proof from the config', async () => {
    const [hardwareClass] = (await load({ jobGenerators: ['my-generator'], maxJobSeconds: 20 })).all(HARDWARE_CLASS);
    expect(hardwareClass?.proof).toEqual({ jobGenerators: ['my-generator'], maxJobSeconds: 20 });
  });

  it('refuses a bad config value, naming the key', async () => {
    await expect(load({ maxJobSeconds: 0 })).rejects.toThrow(PluginError);
    await expect(load({ maxJobSeconds: 0 })).rejects.toThrow(/maxJobSeconds/);
  });
});
