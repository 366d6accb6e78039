import { fileURLToPath } from 'node:url';
import { CONFIG, definePlugin, JOB_GENERATOR, OBJECT_STORE, z } from '@horde/core';
import { DEFAULT_IMAGE, LlmPromptsGenerator } from './generator.js';
import { refuseStandInOutsideDevnet } from './stand-in-guard.js';

export { DEFAULT_IMAGE, LLM_PROMPTS, LlmPromptsError, LlmPromptsGenerator, type LlmPromptsOptions } from './generator.js';
export { makePrompts } from './prompts.js';
export { isGpuClassId, refuseStandInOutsideDevnet, STAND_IN_IMAGES, StandInSolverError, type SolverDeployment } from './stand-in-guard.js';

/** The stand-in solver, for a process-runner mapping `{ 'horde/job-llm-prompts:1': ['node', SOLVE_SCRIPT] }`. */
export const SOLVE_SCRIPT = fileURLToPath(new URL('../job/solve.mjs', import.meta.url));

export const llmPromptsConfig = z.strictObject({
  /** Solver image. The default is the stand-in (no model); production sets a real seeded LLM solver. */
  image: z.string().min(1).default(DEFAULT_IMAGE),
  executorClasses: z.array(z.string().min(1)).min(1).default(['always_on.llm.a6000']),
  timeLimitSeconds: z.number().positive().default(150),
  seriesPerCycle: z.number().int().positive().default(4),
  promptsPerSeries: z.number().int().positive().default(240),
  samplesPerSeries: z.number().int().positive().default(1),
  keyPrefix: z.string().min(1).default('llm-prompts'),
  solverArgs: z.array(z.string()).default(['--temperature=0.5', '--top-p=0.8', '--max-tokens=256']),
  answerDownloadTimeoutSeconds: z.number().positive().default(30),
});

/** The LLM prompts synthetic job generator (`llm-prompts`); needs an object store and a trusted miner. */
export default definePlugin({
  name: '@horde/plugin-job-llm-prompts',
  version: '0.1.0',
  apiRange: '^1.0.0',
  description: 'Synthetic job: answer prompt series, checked against the trusted miner',
  provides: [JOB_GENERATOR],
  configSchema: llmPromptsConfig,
  register(ctx) {
    const { answerDownloadTimeoutSeconds, ...config } = ctx.config;
    // At load time, so `horde config check` refuses the config as `horde validator` would.
    // (A process without a config, e.g. a test registering the plugin alone, has nothing to check.)
    const [processConfig] = ctx.resolveAll(CONFIG);
    if (processConfig) {
      refuseStandInOutsideDevnet({
        role: processConfig.role,
        network: processConfig.chain.network,
        image: config.image,
        executorClasses: config.executorClasses,
      });
    }
    // The prompts and the trusted miner's answers live in the object store: a validator without
    // one is refused at load (HORDE_PLUGIN_DEPENDENCY_MISSING), before its store and chain open.
    ctx.provide(JOB_GENERATOR, {
      deps: { objectStore: OBJECT_STORE },
      factory: ({ objectStore }) =>
        new LlmPromptsGenerator({
          ...config,
          answerDownloadTimeoutMs: answerDownloadTimeoutSeconds * 1000,
          objectStore,
          logger: ctx.logger,
        }),
    });
  },
});
