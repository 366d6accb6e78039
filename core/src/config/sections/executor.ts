import { z } from 'zod';

/** The executor agent: how it runs job containers and how much it accepts. */
export const executorSection = z.strictObject({
  /** `docker` isolates jobs (no network); `process` runs them as local processes (no isolation). */
  runner: z.enum(['docker', 'process']).default('docker'),
  /** Largest volume the executor downloads (ComputeHorde's `VOLUME_MAX_SIZE_BYTES`, 2 GiB). */
  volumeMaxBytes: z.number().int().positive().default(2_147_483_648),
  /** Largest zipped output it uploads (`OUTPUT_ZIP_UPLOAD_MAX_SIZE_BYTES`, 2 GiB). */
  outputMaxBytes: z.number().int().positive().default(2_147_483_648),

  /**
   * The `process` runner's stand-ins for images: image → command line run instead of a container,
   * e.g. `{ "ghcr.io/acme/hasher:v1": ["node", "jobs/hasher.mjs"] }`. The job's command is appended.
   */
  processImages: z.record(z.string().min(1), z.array(z.string().min(1)).min(1)).default({}),
  /** Hugging Face Hub base URL for `huggingface_volume` volumes (tests point it at a local server). */
  huggingfaceEndpoint: z.string().url().default('https://huggingface.co'),
  /** Token for Hub downloads when a volume brings none (ComputeHorde's `HF_ACCESS_TOKEN`). */
  huggingfaceToken: z.string().min(1).optional(),
  /** Directory for the job's temp files (default: the OS temp dir). Must be visible to dockerd for bind mounts. */
  workDir: z.string().min(1).optional(),
  /** Send machine specs (nvidia-smi, CPU, RAM, disk) with each result. */
  machineSpecs: z.boolean().default(true),
});

export type ExecutorSection = z.output<typeof executorSection>;
