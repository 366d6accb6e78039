import type { CrackParams } from './challenge.js';

/** A class's challenge size plus how long an honest executor of that class may take. */
export interface ClassParams extends CrackParams {
  /**
   * Longest a job may take, in seconds, from job request to result. Defaults to the class's
   * `proof.maxJobSeconds`. Sized so an honest machine of the class passes comfortably and a
   * machine of a slower class does not.
   */
  readonly timeLimitSeconds?: number;
  /** Job image; defaults to the generator's `image`. GPU classes point at an image with hashcat. */
  readonly image?: string;
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const EVERY_ALGORITHM = ['sha256', 'sha384', 'sha512'] as const;
/** Image of `job/Dockerfile` (Node, every CPU core). */
export const DEFAULT_IMAGE = 'horde/job-hash-crack:1';
/** Image of `job/Dockerfile.gpu` (hashcat on the GPUs). */
export const DEFAULT_GPU_IMAGE = 'horde/job-hash-crack:1-gpu';

/**
 * Default challenge of the classes without a GPU. Measured single-thread Node speed is ~0.6 M
 * hashes/s per core (SHA-2 of a short password).
 * - `always_on.test`: 3 × 16^4 = 0.2 M candidates, well under a second anywhere (devnet, tests).
 * - `always_on.cpu.8c.16gb`: 3 × 26^5 = 36 M: ~7 s on 8 cores, ~30 s on 2, so a small box
 *   declaring itself an 8-core class misses the 15 s bound.
 * GPU classes are sized from their cards' expected hash rates instead (`rates.ts`, `sizing.ts`).
 */
export const DEFAULT_CLASS_PARAMS: Readonly<Record<string, ClassParams>> = {
  'always_on.test': { algorithms: EVERY_ALGORITHM, alphabet: 'abcdefghijklmnop', length: 4, hashesPerBatch: 4, timeLimitSeconds: 15 },
  'always_on.cpu.8c.16gb': { algorithms: EVERY_ALGORITHM, alphabet: LOWER, length: 5, hashesPerBatch: 6, timeLimitSeconds: 15 },
};

/**
 * How GPU classes are sized from their cards' rates:
 * - `maxSeconds` 53: ComputeHorde's hashcat timeout; the computed bound stays below it.
 * - `overheadSeconds` 12: three hashcat starts (one per chained batch: device set-up, cached
 *   kernels), added to the bound as it is not work a faster card does faster.
 * - `margin` 1.25: an honest card of the class hashes for 1/1.25 = 80 % of its allowance, and a
 *   card more than 1.25 times slower misses the bound (an A100 is ~1.32 times slower than an H100 PCIe).
 * - `hashesPerBatch` 20: the solver stops when it found every hash, so a slower card passes only if
 *   all 60 passwords happen to sit early in their search spaces: at 80 % of the space, 0.8^60 ≈ 1e-6.
 */
export const GPU_SIZING = { maxSeconds: 53, overheadSeconds: 12, margin: 1.25, hashesPerBatch: 20 } as const;
