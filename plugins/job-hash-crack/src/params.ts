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
const LOWER_DIGITS = `${LOWER}0123456789`;
const EVERY_ALGORITHM = ['sha256', 'sha384', 'sha512'] as const;
/** Image of `job/Dockerfile` (Node, every CPU core). */
export const DEFAULT_IMAGE = 'horde/job-hash-crack:1';
/** Image of `job/Dockerfile.gpu` (hashcat on the GPUs). */
export const DEFAULT_GPU_IMAGE = 'horde/job-hash-crack:1-gpu';
const GPU = { algorithms: EVERY_ALGORITHM, alphabet: LOWER_DIGITS, length: 6, hashesPerBatch: 10, timeLimitSeconds: 53, image: DEFAULT_GPU_IMAGE };

/**
 * Default challenge per ComputeHorde class. Measured single-thread Node speed is ~0.6 M hashes/s
 * per core (SHA-2 of a short password); hashcat on one 24 GB GPU does ~1–10 G/s.
 * - `always_on.test`: 3 × 16^4 = 0.2 M candidates, well under a second anywhere (devnet, tests).
 * - `always_on.cpu.8c.16gb`: 3 × 26^5 = 36 M: ~7 s on 8 cores, ~30 s on 2, so a small box
 *   declaring itself an 8-core class misses the 15 s bound.
 * - GPU classes: 3 × 36^6 = 6.5 G: seconds with hashcat on a GPU, ten minutes on 16 CPU cores,
 *   so only a real GPU meets the 53 s bound (ComputeHorde's hashcat timeout).
 */
export const DEFAULT_CLASS_PARAMS: Readonly<Record<string, ClassParams>> = {
  'always_on.test': { algorithms: EVERY_ALGORITHM, alphabet: 'abcdefghijklmnop', length: 4, hashesPerBatch: 4, timeLimitSeconds: 15 },
  'always_on.cpu.8c.16gb': { algorithms: EVERY_ALGORITHM, alphabet: LOWER, length: 5, hashesPerBatch: 6, timeLimitSeconds: 15 },
  'always_on.gpu-24gb': GPU,
  'spin_up-4min.gpu-24gb': GPU,
  'always_on.llm.a6000': GPU,
};
