import type { Clock, JobRunner, Logger } from '../../contracts/index.js';
import { SystemClock } from '../../time/clock.js';
import { EgressPolicy, machineAddresses } from '../../net/egress.js';
import { AGENT_EXTRA_CA_ENV } from '../../net/extra-ca.js';
import { readMachineSpecs } from '../machine-specs.js';
import { lookup } from 'node:dns/promises';
import { defaultBootCacheDir } from '../startup-checks/boot-cache.js';
import { createStartupChecks, DEFAULT_STARTUP_CHECKS, type StartupCheckSettings } from '../startup-checks/create.js';
import { ExecutorJobDriver, type ExecutorJobOutcome, type StreamingSettings } from './job-driver.js';
import { MinerChannel } from './miner-channel.js';

/** The agent's startup limit when `--startup-time-limit` is not given: the miner's default, defined once in its config section. */
export { DEFAULT_EXECUTOR_STARTUP_TIME_LIMIT_SECONDS as DEFAULT_STARTUP_TIME_LIMIT_SECONDS } from '../../config/sections/executor-timing.js';
import { DEFAULT_EXECUTOR_STARTUP_TIME_LIMIT_SECONDS } from '../../config/sections/executor-timing.js';
import { definedFields } from '../../object/defined-fields.js';
/** `VOLUME_MAX_SIZE_BYTES` and `OUTPUT_ZIP_UPLOAD_MAX_SIZE_BYTES`: 2 GiB each. */
export const DEFAULT_TRANSFER_MAX_BYTES = 2_147_483_648;

export interface ExecutorAgentOptions {
  /** The miner's executor address, `ws://host:port` (the agent appends `/v0.1/executor_interface/{token}`). */
  readonly minerUrl: string;
  /** The single-use token the miner made for this executor. */
  readonly token: string;
  /**
   * Runs the job: `DockerJobRunner` or `ProcessJobRunner` (see `createJobRunner`), or a function
   * that makes one. The function is called once the connection to the miner is open, so that a
   * cold start does not load the runner's modules (dockerode) before it connects.
   */
  readonly runner: JobRunner | (() => Promise<JobRunner>);
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly startupTimeLimitSeconds?: number;
  readonly volumeMaxBytes?: number;
  readonly outputMaxBytes?: number;
  /** Hugging Face Hub base URL for `huggingface_volume` (default https://huggingface.co). */
  readonly huggingfaceEndpoint?: string;
  /** Token for Hub downloads when the volume brings none (ComputeHorde's `HF_ACCESS_TOKEN`). */
  readonly huggingfaceToken?: string;
  /** Machine facts for `V0MachineSpecsRequest`; default reads this machine (nvidia-smi, CPU, RAM, disk). */
  readonly machineSpecs?: () => Promise<Record<string, unknown> | null>;
  /**
   * CIDRs volume downloads and output uploads may reach although the egress policy refuses them
   * (`executor.egressAllowlist`); default none: no loopback, link-local, private or own address.
   */
  readonly egressAllowlist?: readonly string[];
  /** Where the job's temp dir goes (default the OS temp dir). */
  readonly workRoot?: string;
  /** Abort = stop the job and exit (SIGTERM from the executor manager). */
  readonly signal?: AbortSignal;
  /**
   * The startup stage's security checks (`executor.startupChecks`, `executor.startupCheckImage`);
   * default all of them, the probe in the job's image. The process runner gets none.
   */
  readonly startupChecks?: StartupCheckSettings;
  /** Where a streaming job's TLS proxy listens (`executor.streamingHost`, `executor.streamingPort`). */
  readonly streaming?: StreamingSettings;
}

/**
 * One executor's life (`horde executor --miner-url U --token T`): connect to the miner, run the one
 * job it hands over, report, clean up, return. Never throws for a job or miner problem: the
 * outcome says what happened (and the miner has been told, when it could be).
 */
export async function runExecutorAgent(options: ExecutorAgentOptions): Promise<ExecutorJobOutcome> {
  const clock = options.clock ?? new SystemClock();
  const startupSeconds = options.startupTimeLimitSeconds ?? DEFAULT_EXECUTOR_STARTUP_TIME_LIMIT_SECONDS;
  const logger = options.logger;

  // Connecting counts against the startup limit: an executor that cannot reach its miner in time
  // is of no use to the validator waiting for it.
  const connectTimeout = AbortSignal.timeout(startupSeconds * 1000);
  const connectSignal = options.signal ? AbortSignal.any([options.signal, connectTimeout]) : connectTimeout;
  const connection = new MinerChannel({ minerAddress: options.minerUrl, token: options.token, logger, signal: connectSignal });
  try {
    await connection.open();
  } catch (error) {
    logger.error({ err: error }, 'executor could not reach its miner');
    return { status: 'horde_failed', reason: 'miner_connection_failed', stage: 'executor_startup', message: (error as Error).message };
  }

  try {
    // Independent of each other, and all needed before the job's startup stage: side by side.
    let runner: JobRunner;
    let ownAddresses: string[];
    try {
      [runner, ownAddresses] = await Promise.all([
        typeof options.runner === 'function' ? options.runner() : options.runner,
        minerAddresses(options.minerUrl),
      ]);
    } catch (error) {
      logger.error({ err: error }, 'executor could not set up its job runner');
      return { status: 'horde_failed', reason: 'executor_failed', stage: 'executor_startup', message: (error as Error).message };
    }
    const egress = new EgressPolicy({
      allow: options.egressAllowlist ?? [],
      ownAddresses: [...machineAddresses(), ...ownAddresses],
      ...definedFields({ extraCaFile: process.env[AGENT_EXTRA_CA_ENV] || undefined }),
    });
    // Passes kept per boot live beside the job directories (the same disk, this user's).
    const checkSettings = { cacheDir: defaultBootCacheDir(options.workRoot), ...(options.startupChecks ?? DEFAULT_STARTUP_CHECKS) };
    const startupChecks = await createStartupChecks(runner, checkSettings, logger);
    const driver = new ExecutorJobDriver({
      startupChecks,
      channel: connection,
      runner,
      clock,
      logger,
      startupTimeLimitSeconds: startupSeconds,
      volumeMaxBytes: options.volumeMaxBytes ?? DEFAULT_TRANSFER_MAX_BYTES,
      outputMaxBytes: options.outputMaxBytes ?? DEFAULT_TRANSFER_MAX_BYTES,
      egress,
      machineSpecs: options.machineSpecs ?? readMachineSpecs,
      ...definedFields({
        huggingfaceEndpoint: options.huggingfaceEndpoint || undefined,
        huggingfaceToken: options.huggingfaceToken || undefined,
        workRoot: options.workRoot || undefined,
      }),
      ...definedFields({ streaming: options.streaming }),
      // SIGTERM, or the miner gone: either way the job stops and its container goes with it.
      signal: options.signal ? AbortSignal.any([options.signal, connection.lost]) : connection.lost,
    });
    return await driver.run();
  } finally {
    await connection.close();
  }
}

/**
 * The miner's addresses count as the executor's own: a job must not reach the miner's port (its
 * `/metrics`, its receipts) through a volume URL, wherever the executor runs.
 */
async function minerAddresses(minerUrl: string): Promise<string[]> {
  try {
    const host = new URL(minerUrl).hostname.replace(/^\[|\]$/g, '');
    return (await lookup(host, { all: true })).map((entry) => entry.address);
  } catch {
    return []; // the connection to the miner already succeeded; its name is checked again per URL
  }
}
