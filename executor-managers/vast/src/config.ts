import { z } from '@horde/core';
import { isEnvName, privateKeyFields } from '@horde/ssh-launcher';

const OPERATORS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'notin'] as const;

/** Which offers may serve one executor class, and how many instances of it may run at once. */
export const vastClassSchema = z.strictObject({
  /** Instances of this class rented at once: the class's count in the manifest. */
  maxInstances: z.number().int().min(0),
  /** GPU model(s), as the vast CLI spells them (`RTX_4090` or `RTX 4090`). */
  gpuName: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  /** Exact number of GPUs. */
  numGpus: z.number().int().positive().optional(),
  /** Minimum memory per GPU, in GB (vast's `gpu_ram`, sent in MB like the CLI does). */
  minGpuRamGb: z.number().positive().optional(),
  /** Highest price in $/hour, everything included (vast's `dph_total`). */
  maxDphTotal: z.number().positive().optional(),
  /** Lowest machine reliability, 0–1 (vast's `reliability2`). */
  minReliability: z.number().min(0).max(1).optional(),
  /** Only verified machines (the CLI's default). */
  verified: z.boolean().default(true),
  /** Include offers vast marks `external` (listed outside its own marketplace); the CLI leaves them out. */
  external: z.boolean().default(false),
  /** More filters, verbatim in vast's query syntax: `{ cuda_max_good: { gte: 12.1 }, geolocation: { in: ['US', 'CA'] } }`. */
  extraFilters: z.record(z.string().min(1), z.partialRecord(z.enum(OPERATORS), z.unknown())).default({}),
  /** Overrides the top-level `image`, `disk`, `onstart` for this class. */
  image: z.string().min(1).optional(),
  disk: z.number().positive().optional(),
  onstart: z.string().optional(),
});
export type VastClassConfig = z.output<typeof vastClassSchema>;

const sshSchema = z
  .strictObject({
    /** Login user on the instances (vast images log in as root). */
    username: z.string().min(1).default('root'),
    /** The key whose public half is registered in the vast account (vast installs account keys on every instance). */
    ...privateKeyFields,
    /** Seconds for TCP connect + handshake + authentication. */
    connectTimeoutSeconds: z.number().positive().default(15),
    /** Seconds between SSH keepalives. */
    keepaliveSeconds: z.number().positive().default(30),
  })
  .superRefine((ssh, ctx) => {
    if ((ssh.privateKeyPath === undefined) === (ssh.privateKey === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['privateKeyPath'], message: 'set exactly one of ssh.privateKeyPath and ssh.privateKey' });
    }
  });

/** The `@horde/executor-manager-vast` config section. */
export const vastConfigSchema = z.strictObject({
  /** Marketplace API base URL. */
  apiUrl: z.string().url().default('https://console.vast.ai'),
  /** API key (console.vast.ai → Account → API keys). Sent as `Authorization: Bearer …`; never logged. */
  apiKey: z.string().min(1),
  /** Docker image the instances run. It must contain node ≥ 20 and horde (see README). */
  image: z.string().min(1),
  /** GB of disk per instance (the CLI's default: 10). */
  disk: z.number().positive().default(10),
  /** Script the instance runs at start (vast's `onstart`). Default: none. */
  onstart: z.string().optional(),
  /** Executor classes to rent machines for, with their offer filters. */
  classes: z
    .record(z.string().min(1), vastClassSchema)
    .refine((classes) => Object.keys(classes).length > 0, 'configure at least one executor class'),
  /** Argv prefix that runs horde on an instance; replaces the miner's own command in front of `executor …`. */
  remoteCommand: z.array(z.string().min(1)).min(1).default(['horde']),
  /** Extra environment for the agents; the runtime's own variables win. */
  env: z.record(z.string().refine(isEnvName, 'environment variable names are letters, digits and _'), z.string()).default({}),
  /** Seconds a new instance may take to run and accept SSH; then it is destroyed and the start fails. */
  readyTimeoutSeconds: z.number().positive().default(600),
  /** Seconds between instance status checks while waiting for it. */
  pollIntervalSeconds: z.number().positive().default(5),
  /** Keep an instance this many seconds after its executor ended, for the next start of its class; 0 destroys at once. */
  idleSeconds: z.number().min(0).default(0),
  /** Connect straight to the instance's public IP (runtype `ssh_direc ssh_proxy`) instead of through vast's SSH proxy. */
  direct: z.boolean().default(false),
  ssh: sshSchema,
  /**
   * Spending caps, in dollars (vast's `dph_total`, everything included). A start that would go over
   * one is refused (logged, counted in `horde_vast_rent_refusals_total`); when what runs would cross
   * the day cap, idle instances are destroyed first, then running ones are stopped. No cap: unset.
   */
  budget: z
    .strictObject({
      maxDollarsPerHour: z.number().positive().optional(),
      maxDollarsPerDay: z.number().positive().optional(),
      /** Seconds between the watchdog's checks of the day cap (and of destroys to retry). */
      checkIntervalSeconds: z.number().positive().default(30),
    })
    .prefault({}),
  /** Seconds before a destroy the marketplace refused is tried again (the instance costs money until then). */
  destroyRetrySeconds: z.number().positive().default(30),
  /** Milliseconds between SIGTERM and SIGKILL when an executor is killed. */
  killGraceMs: z.number().int().min(0).default(5_000),
  /** Seconds one API request may take. */
  requestTimeoutSeconds: z.number().positive().default(30),
  /** Retries of a request answered with HTTP 429 (rate limit), with doubling backoff from 1 s. */
  maxRetries: z.number().int().min(0).default(5),
});

export type VastConfig = z.output<typeof vastConfigSchema>;
