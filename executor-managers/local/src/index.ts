import { definePlugin, EXECUTOR_MANAGER, HARDWARE_CLASS, z } from '@horde/core';
import { LocalExecutorManager } from './local-executor-manager.js';

export { LocalExecutorStartError } from './errors.js';
export { LocalExecutorManager, type LocalExecutorManagerOptions } from './local-executor-manager.js';

/** The plugin's settings: its `config` section in horde.config.yaml, validated before it runs. */
export const localExecutorManagerConfig = z.strictObject({
  /** The class this machine's executors declare. ComputeHorde's default class. */
  executorClass: z.string().min(1).default('spin_up-4min.gpu-24gb'),
  /** Executors running at once. The stock miner runs one. */
  executors: z.number().int().min(0).default(1),
  /** Milliseconds between SIGTERM and SIGKILL when an executor is killed. */
  killGraceMs: z.number().int().min(0).default(5_000),
  /**
   * This machine's address as clients of streaming jobs reach it (an IP or a DNS name). Unset:
   * the address the executor connected to the miner from (fine on one host, a devnet).
   */
  publicAddress: z.string().min(1).nullable().default(null),
});

export type LocalExecutorManagerConfig = z.output<typeof localExecutorManagerConfig>;

/**
 * `@horde/executor-manager-local`: executors run as subprocesses of the miner. The miner loads it
 * when no other plugin provides an executor manager.
 *
 *   plugins: [{ name: '@horde/executor-manager-local', config: { executorClass: 'always_on.cpu.8c.16gb' } }]
 */
export default definePlugin({
  name: '@horde/executor-manager-local',
  version: '0.1.0',
  apiRange: '^1.0.0',
  description: 'runs executor agents as subprocesses of the miner (one at a time by default)',
  provides: [EXECUTOR_MANAGER],
  configSchema: localExecutorManagerConfig,
  register(ctx) {
    ctx.provide(EXECUTOR_MANAGER, {
      useValue: new LocalExecutorManager({ ...ctx.config, logger: ctx.logger }),
    });
  },
  // A class no hardware-class plugin knows is declared to validators that test none of it.
  validate(ctx) {
    const known = ctx.resolveAll(HARDWARE_CLASS).map((hardwareClass) => hardwareClass.id);
    if (known.length === 0 || known.includes(ctx.config.executorClass)) return [];
    return [
      `executorClass "${ctx.config.executorClass}" is not a hardware class this process knows (${known.join(', ')}); set config.executorClass to one of them or add the plugin that provides it`,
    ];
  },
});
