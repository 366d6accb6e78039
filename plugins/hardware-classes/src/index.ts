import { defineError, definePlugin, HARDWARE_CLASS, z, type HardwareClass } from '@horde/core';
import { HARDWARE_CLASSES, HARDWARE_CLASS_IDS } from './classes.js';

export { HARDWARE_CLASSES, HARDWARE_CLASS_IDS } from './classes.js';

const classId = z.enum(HARDWARE_CLASS_IDS as [string, ...string[]]);

/**
 * `classes`: which classes this process knows, in this order (default: all of them). A miner that
 * only runs CPU executors can list just `always_on.cpu.8c.16gb`; a validator lists the classes it
 * pays for.
 */
export const hardwareClassesConfig = z.strictObject({
  classes: z
    .array(classId)
    .min(1)
    .refine((ids) => new Set(ids).size === ids.length, 'lists a class twice')
    .default([...HARDWARE_CLASS_IDS]),
});

export type HardwareClassesConfig = z.output<typeof hardwareClassesConfig>;

/** A class id this plugin does not ship (the config schema admits only known ids, so a caller's bug). */
export class UnknownHardwareClassError extends defineError('HORDE_HARDWARE_CLASS_UNKNOWN') {}

/** The classes a config enables, in the config's order. */
export function enabledClasses(config: HardwareClassesConfig): HardwareClass[] {
  return config.classes.map((id) => {
    const found = HARDWARE_CLASSES.find((hardwareClass) => hardwareClass.id === id);
    // The schema only admits known ids.
    if (!found) throw new UnknownHardwareClassError(`unknown hardware class ${id}`);
    return found;
  });
}

export default definePlugin({
  name: '@horde/plugin-hardware-classes',
  version: '0.1.0',
  apiRange: '^1.0.0',
  description: "ComputeHorde's executor classes plus A100-80GB and H100-80GB",
  provides: [HARDWARE_CLASS],
  configSchema: hardwareClassesConfig,
  register(ctx) {
    for (const hardwareClass of enabledClasses(ctx.config)) ctx.provide(HARDWARE_CLASS, { useValue: hardwareClass });
  },
});
