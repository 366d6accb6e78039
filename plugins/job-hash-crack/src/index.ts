import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { definePlugin, JOB_GENERATOR, z } from '@horde/core';
import { ALGORITHMS } from './challenge.js';
import { HashCrackGenerator } from './generator.js';
import { MeasuredRates } from './measured-rates.js';
import { DEFAULT_IMAGE, GPU_SIZING } from './params.js';

export * from './challenge.js';
export { HASH_CRACK, HashCrackGenerator, judgeAnswer, type HashCrackOptions } from './generator.js';
export { DEFAULT_CLASS_PARAMS, DEFAULT_GPU_IMAGE, DEFAULT_IMAGE, GPU_SIZING, type ClassParams } from './params.js';
export { MeasuredRates, type MeasuredClassRate } from './measured-rates.js';
export { CPU_CORE_RATES, GPU_HASH_RATES, type HashRates, type RateEntry } from './rates.js';
export { classRates, hashSeconds, secondsPerCandidate, sizeChallenge, type SizedParams, type SizingPolicy } from './sizing.js';

/**
 * Paths of the job programs shipped with the package, for a process-runner mapping:
 * `{ 'horde/job-hash-crack:1': ['node', CRACK_SCRIPT] }`. `CHEAT_SCRIPT` is a testing aid that
 * prints a made-up answer (a cheating miner in the devnet and the end-to-end tests).
 */
export const CRACK_SCRIPT = fileURLToPath(new URL('../job/crack.mjs', import.meta.url));
export const CHEAT_SCRIPT = fileURLToPath(new URL('../job/cheat.mjs', import.meta.url));

const classParamsSchema = z.strictObject({
  algorithms: z.array(z.enum(ALGORITHMS)).min(1),
  alphabet: z.string().regex(/^[a-zA-Z0-9]+$/),
  length: z.number().int().positive(),
  hashesPerBatch: z.number().int().positive(),
  timeLimitSeconds: z.number().positive().optional(),
  image: z.string().min(1).optional(),
});

export const hashCrackConfig = z.strictObject({
  /** Image for classes that name none. */
  image: z.string().min(1).default(DEFAULT_IMAGE),
  /** Per-class challenge size and time bound, merged over the defaults (see README). */
  classes: z.record(z.string(), classParamsSchema).default({}),
  /** Hash rates per GPU model (hashes/s per algorithm), merged over the shipped table (see README). */
  rates: z
    .record(z.string(), z.strictObject({ sha256: z.number().positive(), sha384: z.number().positive(), sha512: z.number().positive() }))
    .default({}),
  /** How GPU classes are sized from their cards' rates. */
  sizing: z
    .strictObject({
      maxSeconds: z.number().positive().default(GPU_SIZING.maxSeconds),
      overheadSeconds: z.number().nonnegative().default(GPU_SIZING.overheadSeconds),
      margin: z.number().min(1).default(GPU_SIZING.margin),
      hashesPerBatch: z.number().int().positive().default(GPU_SIZING.hashesPerBatch),
    })
    .refine((sizing) => sizing.maxSeconds > sizing.overheadSeconds, 'maxSeconds must exceed overheadSeconds')
    .default({ ...GPU_SIZING }),
  /**
   * Calibration on the trusted miner each batch (see README): `enabled`, `seconds` of hashing per
   * class, `weight` of a new sample in the stored factor.
   */
  calibration: z
    .strictObject({
      enabled: z.boolean().default(true),
      seconds: z.number().positive().default(15),
      weight: z.number().gt(0).max(1).default(0.3),
    })
    .default({ enabled: true, seconds: 15, weight: 0.3 }),
  downloadTimeLimitSeconds: z.number().positive().default(10),
  uploadTimeLimitSeconds: z.number().positive().default(10),
  allowedLeewaySeconds: z.number().nonnegative().default(5),
});

/** The hash-cracking synthetic job generator (`hash-crack`). */
export default definePlugin({
  name: '@horde/plugin-job-hash-crack',
  version: '0.1.0',
  apiRange: '^1.0.0',
  description: 'Synthetic job: crack salted SHA-2 hashes in chained batches',
  provides: [JOB_GENERATOR],
  configSchema: hashCrackConfig,
  register(ctx) {
    const { calibration, ...config } = ctx.config;
    const measuredRates = new MeasuredRates(join(ctx.dataDir, 'measured-rates.json'), ctx.logger, calibration.weight);
    ctx.provide(JOB_GENERATOR, {
      useValue: new HashCrackGenerator({
        ...config,
        measuredRates,
        calibration: calibration.enabled ? { seconds: calibration.seconds } : false,
        logger: ctx.logger,
      }),
    });
  },
});
