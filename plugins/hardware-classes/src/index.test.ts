import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HARDWARE_CLASS, PluginError, type HardwareClass, type HordeConfigInput } from '@horde/core';
import { loadPluginsForTest } from '@horde/core/testkit';
import { HARDWARE_CLASSES } from './index.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

/** Loads the plugin by its package name, as a user's config names it. */
async function load(entry: NonNullable<HordeConfigInput['plugins']>[number]) {
  return loadPluginsForTest({ plugins: [entry] }, { baseDir: repo });
}

describe('@horde/plugin-hardware-classes', () => {
  it("provides all seven classes by default, ComputeHorde's first", async () => {
    const { loaded, root } = await load('@horde/plugin-hardware-classes');
    const ids = loaded.all(HARDWARE_CLASS).map((hardwareClass) => hardwareClass.id);
    expect(ids).toEqual([
      'spin_up-4min.gpu-24gb',
      'always_on.gpu-24gb',
      'always_on.llm.a6000',
      'always_on.test',
      'always_on.cpu.8c.16gb',
      'always_on.gpu.a100-80gb',
      'always_on.gpu.h100-80gb',
    ]);
    expect(root.resolveAll<HardwareClass>(HARDWARE_CLASS).map((hardwareClass) => hardwareClass.id)).toEqual(ids);
    expect(loaded.plugins[0]).toMatchObject({
      name: '@horde/plugin-hardware-classes',
      version: '0.1.0',
      provides: [{ contract: 'HardwareClass', count: 7 }],
    });
  });

  it("carries ComputeHorde's spin-up times, manifest short codes and resources", () => {
    const byId = new Map(HARDWARE_CLASSES.map((hardwareClass) => [hardwareClass.id, hardwareClass]));
    expect(byId.get('spin_up-4min.gpu-24gb')).toMatchObject({
      spinUpSeconds: 240,
      shortCode: 'S',
      resources: { gpu: { vramGb: 24 } },
      dockerPreset: 'nvidia_all',
    });
    expect(byId.get('always_on.gpu-24gb')).toMatchObject({ spinUpSeconds: 3, shortCode: 'A', dockerPreset: 'nvidia_all' });
    expect(byId.get('always_on.llm.a6000')).toMatchObject({ spinUpSeconds: 30, shortCode: 'L', resources: { gpu: { vramGb: 48 } } });
    expect(byId.get('always_on.test')).toMatchObject({ spinUpSeconds: 3, shortCode: 'T', dockerPreset: 'none' });
    expect(byId.get('always_on.cpu.8c.16gb')).toMatchObject({
      spinUpSeconds: 30,
      shortCode: 'C',
      resources: { cpuCores: 8, ramGb: 16 },
      dockerPreset: 'none',
    });
    expect(byId.get('always_on.gpu.a100-80gb')?.resources.gpu).toMatchObject({ vramGb: 80 });
    expect(byId.get('always_on.gpu.h100-80gb')?.resources.gpu).toMatchObject({ vramGb: 80 });
  });

  it('gives every class its own one-letter manifest code and a GPU preset exactly when it has a GPU', () => {
    const codes = HARDWARE_CLASSES.map((hardwareClass) => hardwareClass.shortCode);
    expect(new Set(codes).size).toBe(codes.length);
    for (const hardwareClass of HARDWARE_CLASSES) {
      expect(hardwareClass.shortCode).toMatch(/^[A-Z]$/);
      expect(hardwareClass.dockerPreset).toBe(hardwareClass.resources.gpu ? 'nvidia_all' : 'none');
      expect(hardwareClass.proof.jobGenerators.length).toBeGreaterThan(0);
      expect(hardwareClass.proof.maxJobSeconds).toBeGreaterThan(0);
    }
  });

  it("provides only the classes the config enables, in the config's order", async () => {
    const { loaded } = await load({
      name: '@horde/plugin-hardware-classes',
      config: { classes: ['always_on.cpu.8c.16gb', 'always_on.test'] },
    });
    expect(loaded.all(HARDWARE_CLASS).map((hardwareClass) => hardwareClass.id)).toEqual(['always_on.cpu.8c.16gb', 'always_on.test']);
  });

  it('refuses an unknown class id, listing the known ones', async () => {
    const error = await load({
      name: '@horde/plugin-hardware-classes',
      config: { classes: ['always_on.test', 'always_on.gpu-4090'] },
    }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(PluginError);
    expect((error as PluginError).code).toBe('HORDE_PLUGIN_CONFIG_INVALID');
    expect((error as PluginError).message).toContain(
      'plugins[0].config.classes[1]: expected "spin_up-4min.gpu-24gb", "always_on.gpu-24gb"',
    );
    expect((error as PluginError).message).toContain('got "always_on.gpu-4090"');
  });

  it('refuses a class listed twice', async () => {
    await expect(
      load({ name: '@horde/plugin-hardware-classes', config: { classes: ['always_on.test', 'always_on.test'] } }),
    ).rejects.toThrow('plugins[0].config.classes: lists a class twice');
  });
});
