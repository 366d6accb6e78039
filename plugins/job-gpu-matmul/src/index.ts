import { fileURLToPath } from 'node:url';
import { definePlugin, JOB_GENERATOR, z } from '@horde/core';
import { DEFAULT_IMAGE, GpuMatmulGenerator } from './generator.js';

export * from './matrix.js';
export {
  DEFAULT_CLASS_PARAMS,
  DEFAULT_GPU_IMAGE,
  DEFAULT_IMAGE,
  GPU_MATMUL,
  GpuMatmulGenerator,
  judgeMatmul,
  type GpuMatmulOptions,
  type MatmulClassParams,
} from './generator.js';

/** The CPU solver, for a process-runner mapping `{ 'horde/job-gpu-matmul:1': ['node', MATMUL_SCRIPT] }`. */
export const MATMUL_SCRIPT = fileURLToPath(new URL('../job/matmul.mjs', import.meta.url));

export const gpuMatmulConfig = z.strictObject({
  /** Image for classes that name none. */
  image: z.string().min(1).default(DEFAULT_IMAGE),
  /** Per-class size and bound, merged over the defaults (see README). */
  classes: z
    .record(
      z.string(),
      z.strictObject({
        n: z.number().int().min(2).max(65_536),
        challenges: z.number().int().positive(),
        timeLimitSeconds: z.number().positive(),
        image: z.string().min(1).optional(),
      }),
    )
    .default({}),
});

/** The proof-of-GPU matrix-multiplication synthetic job generator (`gpu-matmul`). */
export default definePlugin({
  name: '@horde/plugin-job-gpu-matmul',
  version: '0.1.0',
  apiRange: '^1.0.0',
  description: 'Synthetic job: a seeded int8 matrix product, committed as a Merkle root, challenged rows recomputed',
  provides: [JOB_GENERATOR],
  configSchema: gpuMatmulConfig,
  register(ctx) {
    ctx.provide(JOB_GENERATOR, { useValue: new GpuMatmulGenerator(ctx.config) });
  },
});
