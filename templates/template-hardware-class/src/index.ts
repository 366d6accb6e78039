import { definePlugin, HARDWARE_CLASS, z, type HardwareClass } from '@horde/core';

/*
 * {{packageName}}: a hardware (executor) class for horde.
 *
 * An executor class is what a miner declares in its manifest ("I run 4 executors of class X") and
 * what a validator pays for. Both sides must know the class: list this plugin in the miner's and
 * in the validator's horde.config.yaml. The class says:
 *   id            `<availability>.<kind>[.<detail>]`, e.g. `always_on.llm.a6000`;
 *   spinUpSeconds how long an executor may take from reserved to ready;
 *   shortCode     one upper-case letter in the on-chain manifest commitment (`<M:C4;F2>`);
 *                 ComputeHorde uses A, S, L, T, C and the shipped classes D and H: pick a free one;
 *   resources     GPU, CPU, RAM and disk facts;
 *   dockerPreset  `nvidia_all` for classes with a GPU, `none` otherwise;
 *   proof         which job generators may test it and how long an honest executor needs.
 */

/** The plugin's settings: its `config` section in horde.config.yaml, validated before it runs. */
export const {{pluginVar}}Config = z.strictObject({
  /** Job generators (by name) whose synthetic jobs prove this class, in order of preference. */
  jobGenerators: z.array(z.string().min(1)).min(1).default(['hash-crack']),
  /** Longest time, in seconds, an honest executor of this class needs for the class's synthetic job. */
  maxJobSeconds: z.number().positive().default(60),
});

export type {{className}}Config = z.output<typeof {{pluginVar}}Config>;

/** The class with the settings applied; everything but the proof is fixed, as the class's identity. */
export function {{pluginVar}}Class(config: {{className}}Config): HardwareClass {
  return {
    id: 'always_on.cpu.4c.8gb',
    description: 'Always-on CPU-only machine with 4 cores and 8 GB RAM',
    spinUpSeconds: 30,
    shortCode: 'F',
    resources: { cpuCores: 4, ramGb: 8, storageGb: 50 },
    dockerPreset: 'none',
    proof: { jobGenerators: config.jobGenerators, maxJobSeconds: config.maxJobSeconds },
  };
}

/**
 * The plugin: what horde imports when horde.config.yaml lists this package. Classes from several
 * plugins add up, in config order; to offer several classes, call `ctx.provide` once for each.
 */
export default definePlugin({
  name: '{{packageName}}',
  // Keep in step with package.json (a test checks it); `horde plugins list` shows it.
  version: '0.1.0',
  // The plugin API versions this code is written for; horde refuses to load it elsewhere.
  apiRange: '^1.0.0',
  description: '{{description}}',
  provides: [HARDWARE_CLASS],
  configSchema: {{pluginVar}}Config,
  register(ctx) {
    ctx.provide(HARDWARE_CLASS, { useValue: {{pluginVar}}Class(ctx.config) });
  },
});
