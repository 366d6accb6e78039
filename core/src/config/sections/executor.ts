import { z } from 'zod';
import { validateEgressAllowlist } from '../../net/egress.js';

/** The checks an executor can run in its startup stage; `executor.startupChecks` lists the enabled ones. */
export const STARTUP_CHECK_NAMES = ['docker_engine', 'container_escape', 'nvidia_toolkit'] as const;
export type StartupCheckName = (typeof STARTUP_CHECK_NAMES)[number];

/**
 * `false`, or a list of check names. Environment variables arrive as text: `false`, a
 * comma-separated list (`docker_engine,container_escape`) or JSON are all read.
 */
const startupChecksSetting = z.preprocess(
  (value) => {
    if (typeof value !== 'string') return value;
    const text = value.trim();
    if (text === 'false') return false;
    if (text.startsWith('[')) {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return value;
      }
    }
    return text === '' ? [] : text.split(',').map((name) => name.trim());
  },
  z.union([z.literal(false), z.array(z.enum(STARTUP_CHECK_NAMES))]),
);

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
  /**
   * CIDRs (or single addresses) volume downloads and output uploads may reach although the egress
   * policy refuses them: loopback, link-local (169.254.0.0/16, fe80::/10), private and unique-local
   * ranges (fd00::/8 included) and the machine's and the miner's own addresses are refused by
   * default, after DNS resolution and on every redirect hop. E.g. `['10.20.0.0/16']` for object
   * storage on a private network; tests and the devnet set `['127.0.0.1/32']`.
   */
  egressAllowlist: z
    .array(z.string().min(1))
    .superRefine((entries, ctx) => {
      try {
        validateEgressAllowlist(entries);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    })
    .default([]),
  /** Directory for the job's temp files (default: the OS temp dir). Must be visible to dockerd for bind mounts. */
  workDir: z.string().min(1).optional(),
  /**
   * Limits and hardening every job container gets from the `docker` runner (the `process` runner
   * cannot enforce them): `memoryBytes` (no swap beyond it; default three quarters of the
   * machine's memory), `pids` (stops fork bombs; 1024), `cpus` (no cap), `dropCapabilities`
   * (`CapDrop: ALL` + no-new-privileges; true), `logBytes` (the engine's log of the output; 16 MiB),
   * `diskBytes` (the writable layer, where the storage driver supports a size; 20 GiB, `null` for
   * none), `user` (`uid[:gid]` every job runs as; default the image's USER).
   */
  jobLimits: z
    .strictObject({
      memoryBytes: z.number().int().positive().optional(),
      pids: z.number().int().positive().default(1024),
      cpus: z.number().positive().optional(),
      dropCapabilities: z.boolean().default(true),
      logBytes: z
        .number()
        .int()
        .positive()
        .default(16 * 1024 * 1024),
      diskBytes: z
        .number()
        .int()
        .positive()
        .nullable()
        .default(20 * 1024 * 1024 * 1024),
      user: z
        .string()
        .regex(/^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$/, 'expected uid[:gid] or user[:group]')
        .optional(),
    })
    .prefault({}),
  /** Send machine specs (nvidia-smi, CPU, RAM, disk) with each result. */
  machineSpecs: z.boolean().default(true),

  /**
   * Security checks run before the executor reports ready (core/src/executor/README.md):
   * `docker_engine`, `container_escape` (CVE-2022-0492), `nvidia_toolkit` (>= 1.17.4 for GPU jobs).
   * A failing check fails the job with `security_check_failed`. `false` turns them all off: for
   * local testing only, never on a miner that takes jobs. The process runner runs none.
   */
  startupChecks: startupChecksSetting.default([...STARTUP_CHECK_NAMES]),
  /**
   * Image the `container_escape` probe runs in (needs /bin/sh, mount and util-linux unshare).
   * Default: the job's own image, which is already there (the probe then runs for every job: an
   * image can be built to lie to it). Set one you trust so that the check does not depend on what a
   * job image contains; its pass is then kept per boot and engine and the probe runs again only
   * when the boot, the engine's configuration, the image or the job container settings change.
   */
  startupCheckImage: z.string().min(1).optional(),
  /**
   * Streaming jobs: where the executor's TLS proxy listens, the only way in to the job's server
   * (which itself is reachable from this machine only). The port must be reachable at the
   * executor's public address (the executor manager's `publicAddress`); 0 picks a free port per
   * job, fine where nothing filters ports. ComputeHorde's `NGINX_PORT` default is 6006.
   */
  streamingHost: z.string().min(1).default('0.0.0.0'),
  streamingPort: z.number().int().min(0).max(65535).default(0),
});

export type ExecutorSection = z.output<typeof executorSection>;
