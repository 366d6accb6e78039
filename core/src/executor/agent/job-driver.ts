import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock, JobRunner, JobRunOutcome, JobServerAddress, Logger } from '../../contracts/index.js';
import type { JobStage } from '../../protocol/enums.js';
import type { ExecutorTiming, ExecutorToMinerMessage, V0InitialJobRequest, V0JobRequest } from '../../protocol/messages.js';
import { definedFields } from '../../object/defined-fields.js';
import { collectArtifacts } from '../artifacts.js';
import { artifactsDirProblem } from '../job-paths.js';
import { truncateOutput } from '../output-text.js';
import type { EgressPolicy } from '../../net/egress.js';
import type { StartupChecks } from '../startup-checks/suite.js';
import { StartupCheckFailed, type CheckContext } from '../startup-checks/types.js';
import type { CertificateAndKey } from '../../tls/index.js';
import { Deadline } from './deadline.js';
import { HordeFailure, JobFailure, StageTimeout, type FailureContext } from './failures.js';
import type { StreamingProxy } from './streaming-proxy.js';

/**
 * Volume downloads (yauzl, zlib streams) and output uploads (yazl) load on first use, not at agent
 * start: the agent's start is on every cold job's critical path, and a job without a volume or an
 * upload never needs them. A job that has one starts loading them as soon as its initial request
 * says so (`preload`), while the executor gets ready.
 */
const loadVolumes = (): Promise<typeof import('../volumes.js')> => import('../volumes.js');
const loadUploads = (): Promise<typeof import('../uploads.js')> => import('../uploads.js');
/** Streaming jobs only: X.509 (@peculiar/x509, ~200 modules) and the TLS proxy, loaded when a job streams. */
const loadTls = (): Promise<typeof import('../../tls/index.js')> => import('../../tls/index.js');
const loadStreamingProxy = (): Promise<typeof import('./streaming-proxy.js')> => import('./streaming-proxy.js');

/** The two requests the miner sends and the channel back; `MinerChannel` in production. */
export interface JobChannel {
  initialRequest(): Promise<V0InitialJobRequest>;
  jobRequest(): Promise<V0JobRequest>;
  send(message: ExecutorToMinerMessage): Promise<void>;
}

export interface ExecutorJobDriverOptions {
  readonly channel: JobChannel;
  readonly runner: JobRunner;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Seconds to get the initial request, check the image and report ready (`--startup-time-limit`). */
  readonly startupTimeLimitSeconds: number;
  readonly volumeMaxBytes: number;
  readonly outputMaxBytes: number;
  /** Where volume downloads and output uploads may connect. */
  readonly egress: EgressPolicy;
  readonly huggingfaceEndpoint?: string;
  readonly huggingfaceToken?: string;
  /** Machine facts sent in `V0MachineSpecsRequest`; null sends none. */
  readonly machineSpecs: () => Promise<Record<string, unknown> | null>;
  /** Parent of the job's temp dir (default: the OS temp dir). */
  readonly workRoot?: string;
  /** SIGTERM: stop the job (the runner removes its container) and report. */
  readonly signal?: AbortSignal;
  /** Security checks of the startup stage (`createStartupChecks`); none when absent. */
  readonly startupChecks?: StartupChecks;
  /** Where a streaming job's TLS proxy listens (default `0.0.0.0`, any free port). */
  readonly streaming?: StreamingSettings;
}

export interface StreamingSettings {
  readonly listenHost?: string;
  /** 0 = any free port (the port goes to the client in `V0StreamingJobReadyRequest`). */
  readonly listenPort?: number;
  /** How long the job's server may take to answer `/health` (ComputeHorde's 25 s). */
  readonly healthTimeoutMs?: number;
}

/** A streaming job's TLS material, made in the startup stage. */
interface StreamingSetup {
  readonly server: CertificateAndKey;
  readonly clientCertPem: string;
}

export type ExecutorJobOutcome =
  | { readonly status: 'finished' }
  | { readonly status: 'failed'; readonly reason: string; readonly stage: JobStage; readonly message: string }
  | { readonly status: 'horde_failed'; readonly reason: string; readonly stage: JobStage; readonly message: string };

/** One job as its stages see it, once the initial request has come. */
interface RunningJob {
  readonly deadline: Deadline;
  readonly workDir: string;
  readonly dirs: { readonly volume: string; readonly output: string; readonly artifacts: string; readonly scratch: string };
  readonly initial: V0InitialJobRequest;
  /** The per-stage limits; absent when the miner sent only the old single `timeout_seconds`. */
  readonly timing: ExecutorTiming | undefined;
}

/** A streaming job in the execution stage: its TLS material, its proxy, and whether it was reported ready. */
interface StreamedJob {
  readonly setup: StreamingSetup;
  readonly proxy: StreamingProxy;
  ready: boolean;
}

/** What the upload stage hands to the finished message. */
interface UploadedResult {
  readonly artifacts: Record<string, string>;
  readonly uploadResults: Record<string, string>;
}

/** A job runner's extra grace over the deadline to kill its container and hand back the output. */
const RUNNER_GRACE_MS = 10_000;

/**
 * Runs one job from the executor's side (ComputeHorde's `JobDriver`), stage by stage:
 *
 *   executor_startup  get `V0InitialJobRequest`, run the startup checks, make the image
 *                     available                                         → `V0ExecutorReadyRequest`
 *   volume_download   get `V0JobRequest`, download the volume            → `V0VolumesReadyRequest`
 *   streaming_startup (streaming jobs) start the job on a network of its own, put the TLS
 *                     proxy in front of it, wait for its /health      → `V0StreamingJobReadyRequest`
 *   execution         run the job (no network)                           → `V0ExecutionDoneRequest`
 *   result_upload     upload /output, collect artifacts → `V0MachineSpecsRequest`, `V0JobFinishedRequest`
 *
 * The startup stage has its own limit; then the deadline is `allowed_leeway` and grows by each
 * stage's limit as the stage starts, so unused time carries over. Failures are reported as the
 * original does: the job's fault (timeout, nonzero_return_code, download_failed, upload_failed)
 * as `V0JobFailedRequest`, anything else as `V0HordeFailedRequest` (reported by the executor).
 */
export class ExecutorJobDriver {
  private stage: JobStage = 'executor_startup';
  private jobUuid: string | null = null;
  private execution: JobRunOutcome | null = null;
  /** Progress messages handed to the socket and not yet confirmed written (see `sendProgress`). */
  private unconfirmed: Promise<void>[] = [];
  private readonly log: Logger;

  constructor(private readonly options: ExecutorJobDriverOptions) {
    this.log = options.logger;
  }

  async run(): Promise<ExecutorJobOutcome> {
    const workDir = await mkdtemp(join(this.options.workRoot ?? tmpdir(), 'horde-job-'));
    try {
      await this.execute(workDir);
      return { status: 'finished' };
    } catch (error) {
      return await this.report(error);
    } finally {
      await rm(workDir, { recursive: true, force: true }).catch((error: unknown) =>
        this.log.error({ err: error, workDir }, 'could not remove the job directory'),
      );
    }
  }

  private async execute(workDir: string): Promise<void> {
    // All made now, before the job request, and removed with the work dir after the result is sent.
    const dirs = {
      volume: join(workDir, 'volume'),
      output: join(workDir, 'output'),
      artifacts: join(workDir, 'artifacts'),
      scratch: join(workDir, 'scratch'),
    };
    await Promise.all(Object.values(dirs).map((dir) => mkdir(dir, { recursive: true })));
    // Read the machine's specs while the rest starts up (nvidia-smi can take a second).
    const specs = this.options.machineSpecs().catch((error: unknown) => {
      this.log.warn({ err: error }, 'could not read the machine specs');
      return null;
    });
    const deadline = new Deadline(this.options.clock, this.options.startupTimeLimitSeconds);
    const { initial, streaming } = await this.startupStage(deadline, workDir);
    const job: RunningJob = { deadline, workDir, dirs, initial, timing: startTiming(deadline, initial) };
    const request = await this.volumeStage(job);
    const outcome = await this.executionStage(job, request, streaming);
    const uploaded = await this.uploadStage(job, request, outcome);
    await this.sendResult(job, outcome, uploaded, await specs);
  }

  /**
   * The stage helper: `enterStage`, then `work` under the deadline, stopped by the deadline
   * (rejecting with `onTimeout()`) or by SIGTERM. The execution stage enters and runs in two steps
   * instead: its proxy starts in between, and the runner gets a grace to report its own timeout.
   */
  private runStage<T>(
    job: Pick<RunningJob, 'deadline' | 'timing'>,
    stage: JobStage,
    limitSeconds: (timing: ExecutorTiming) => number,
    onTimeout: () => Error,
    work: (stageSignal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    this.enterStage(job, stage, limitSeconds);
    return job.deadline.run(work, onTimeout, this.options.signal);
  }

  /**
   * Marks the stage (what a failure is reported against) and extends the deadline by the stage's
   * limit (only with `executor_timing`: the old single `timeout_seconds` was set once).
   */
  private enterStage(
    job: Pick<RunningJob, 'deadline' | 'timing'>,
    stage: JobStage,
    limitSeconds: (timing: ExecutorTiming) => number,
  ): void {
    this.stage = stage;
    if (job.timing) job.deadline.extend(limitSeconds(job.timing));
  }

  /** Startup checks get what they need to know of the job. */
  private checkContext(
    job: Pick<RunningJob, 'deadline' | 'workDir'>,
    request: V0InitialJobRequest,
    stageSignal: AbortSignal,
  ): CheckContext {
    return {
      jobUuid: request.job_uuid,
      executorClass: request.executor_class,
      image: request.docker_image ?? null,
      timeLeftMs: () => job.deadline.leftMs(),
      signal: stageSignal,
      workDir: join(job.workDir, 'startup-check'),
      logger: this.log,
    };
  }

  /** executor_startup: its own limit, enough to get the job details, check, and get the image. */
  private async startupStage(
    deadline: Deadline,
    workDir: string,
  ): Promise<{ initial: V0InitialJobRequest; streaming: StreamingSetup | null }> {
    const { channel } = this.options;
    const checks = this.options.startupChecks;
    let streaming: StreamingSetup | null = null;
    const initial = await this.runStage(
      { deadline, timing: undefined },
      'executor_startup',
      () => 0,
      () => {
        const check = checks?.running;
        if (check) {
          return new HordeFailure(
            'security_check_failed',
            `startup check ${check} did not finish within the startup time limit (${this.options.startupTimeLimitSeconds} s)`,
            { check },
          );
        }
        return new HordeFailure('generic_error', 'Timed out waiting for initial job details from miner');
      },
      async (stageSignal) => {
        const request = await channel.initialRequest();
        this.jobUuid = request.job_uuid;
        this.log.info({ jobUuid: request.job_uuid, executorClass: request.executor_class }, 'initial job request received');
        // A volume the initial request announces: its code loads while the image and checks run.
        if (request.volume) void loadVolumes().catch(() => undefined);
        // As the original: checks, clean-up of old job containers, then the image; ready only after all.
        await checks?.beforeImage(this.checkContext({ deadline, workDir }, request, stageSignal));
        if (request.docker_image) await this.prepareImage(request.docker_image);
        await checks?.afterImage(this.checkContext({ deadline, workDir }, request, stageSignal));
        if (request.streaming_details) streaming = await streamingSetup(request.streaming_details);
        await channel.send({ message_type: 'V0ExecutorReadyRequest', job_uuid: request.job_uuid });
        return request;
      },
    );
    return { initial, streaming };
  }

  /** volume_download: wait for the job request, fetch the volume. */
  private volumeStage(job: RunningJob): Promise<V0JobRequest> {
    const { channel } = this.options;
    const { initial } = job;
    return this.runStage(
      job,
      'volume_download',
      (timing) => timing.download_time_limit,
      () => new StageTimeout('volume_download', job.timing?.download_time_limit ?? 0),
      async (stageSignal) => {
        const request = await channel.jobRequest();
        // Checked before anything is fetched or mounted: a bad path is the job's fault, not the runner's.
        const artifactsProblem = request.artifacts_dir ? artifactsDirProblem(request.artifacts_dir) : null;
        if (artifactsProblem) throw new JobFailure('unknown', `artifacts_dir ${JSON.stringify(request.artifacts_dir)} ${artifactsProblem}`);
        // A GPU job on a class not known as a GPU class at startup: the GPU check before anything runs.
        if (request.docker_run_options_preset === 'nvidia_all')
          await this.options.startupChecks?.beforeGpuJob(this.checkContext(job, initial, stageSignal));
        const volume = initial.volume ?? request.volume;
        if (volume) {
          await asJobFailure('download_failed', 'Download failed', stageSignal, async (failures) => {
            const { downloadVolume, VolumeDownloadError } = await loadVolumes();
            failures.push(VolumeDownloadError);
            await downloadVolume(volume, job.dirs.volume, {
              maxBytes: this.options.volumeMaxBytes,
              egress: this.options.egress,
              signal: stageSignal,
              logger: this.log,
              ...definedFields({
                huggingfaceEndpoint: this.options.huggingfaceEndpoint || undefined,
                huggingfaceToken: this.options.huggingfaceToken || undefined,
              }),
            });
          });
        }
        this.sendProgress({ message_type: 'V0VolumesReadyRequest', job_uuid: initial.job_uuid });
        return request;
      },
    );
  }

  /**
   * execution: the job itself, with no network (a streaming job: reachable from its proxy only,
   * after `streaming_startup`). The job's own faults (timeout, non-zero exit) end it here.
   */
  private async executionStage(job: RunningJob, request: V0JobRequest, streaming: StreamingSetup | null): Promise<JobRunOutcome> {
    const { channel, signal } = this.options;
    const { initial, deadline } = job;
    this.enterStage(
      job,
      streaming ? 'streaming_startup' : 'execution',
      (timing) => timing.execution_time_limit + (streaming ? timing.streaming_start_time_limit : 0),
    );
    this.log.info(
      { jobUuid: initial.job_uuid, image: request.docker_image, timeLeftMs: deadline.leftMs(), streaming: streaming !== null },
      'starting the job',
    );
    const proxy = streaming ? await this.startProxy(streaming) : null;
    const streamed: StreamedJob | null = streaming && proxy ? { setup: streaming, proxy, ready: false } : null;
    const outcome = await deadline
      .run(
        (stageSignal) => this.runJob(job, request, stageSignal, streamed),
        () => new StageTimeout('execution', job.timing?.execution_time_limit ?? 0),
        signal,
        RUNNER_GRACE_MS,
      )
      .finally(() => proxy?.close());
    this.stage = 'execution';
    this.execution = outcome;
    if (signal?.aborted) throw new HordeFailure('generic_error', 'the executor was stopped while the job ran');
    this.log.info(
      { jobUuid: initial.job_uuid, exitCode: outcome.exitCode, timedOut: outcome.timedOut, durationMs: outcome.durationMs },
      'job process ended',
    );
    if (outcome.timedOut) throw new JobFailure('timeout', 'Job container timed out during execution');
    if (outcome.exitCode !== 0) {
      const detail = outcome.oomKilled ? ' (out of memory)' : '';
      throw new JobFailure('nonzero_return_code', `Job container exited with non-zero exit code: ${outcome.exitCode}${detail}`);
    }
    // A streaming job that ended (cleanly) without its server ever answering /health.
    if (streamed && !streamed.ready) throw new JobFailure('timeout', 'Streaming job health check failed');
    this.sendProgress({ message_type: 'V0ExecutionDoneRequest', job_uuid: initial.job_uuid });
    return outcome;
  }

  /**
   * The job's process through the runner. A streaming job is pointed at by its proxy once the
   * runner says where its server listens, and reported ready once that server answers /health;
   * one that never does is stopped (`runSignal` ends the run early).
   */
  private async runJob(
    job: RunningJob,
    request: V0JobRequest,
    stageSignal: AbortSignal,
    streamed: StreamedJob | null,
  ): Promise<JobRunOutcome> {
    const { channel, runner } = this.options;
    const { initial, deadline } = job;
    // A job whose server never answers /health is stopped: `runSignal` ends the run early.
    const stopRun = new AbortController();
    const runSignal = AbortSignal.any([stageSignal, stopRun.signal]);
    let serverStarted: (address: JobServerAddress) => void = () => {};
    const started = new Promise<JobServerAddress>((resolve) => (serverStarted = resolve));
    const run = runner.run({
      jobUuid: initial.job_uuid,
      image: request.docker_image,
      command: request.docker_run_cmd,
      env: request.env,
      ...definedFields({ rawScript: request.raw_script || undefined }),
      preset: request.docker_run_options_preset,
      volumeDir: job.dirs.volume,
      outputDir: job.dirs.output,
      artifactsDir: job.dirs.artifacts,
      artifactsMountPath: request.artifacts_dir ?? '/artifacts',
      scratchDir: job.dirs.scratch,
      network: streamed ? 'streaming' : 'none',
      ...definedFields({ onServerStarted: streamed ? (address: JobServerAddress) => serverStarted(address) : undefined }),
      timeoutMs: deadline.leftMs(),
      signal: runSignal,
    });
    if (!streamed) return await run;
    const ended = run.then(
      () => null,
      () => null,
    );
    const address = await Promise.race([started, ended]);
    if (address === null) return await run; // it ended before it started: its outcome says why
    streamed.proxy.setTarget(address);
    const { STREAMING_HEALTH_TIMEOUT_MS, waitForHealth } = await loadStreamingProxy();
    const healthWaitMs = Math.min(this.options.streaming?.healthTimeoutMs ?? STREAMING_HEALTH_TIMEOUT_MS, deadline.leftMs());
    const healthy = await Promise.race([waitForHealth(address, healthWaitMs, runSignal), ended.then(() => false)]);
    if (!healthy) {
      stopRun.abort();
      await run.catch(() => null);
      throw new JobFailure('timeout', 'Streaming job health check failed', { health_wait_ms: healthWaitMs });
    }
    await channel.send({
      message_type: 'V0StreamingJobReadyRequest',
      job_uuid: initial.job_uuid,
      public_key: streamed.setup.server.certPem,
      port: streamed.proxy.port,
    });
    streamed.ready = true;
    this.stage = 'execution';
    this.log.info({ jobUuid: initial.job_uuid, port: streamed.proxy.port }, 'streaming job ready');
    return await run;
  }

  /** result_upload: artifacts, and with an upload the full output to /output (truncated in the message) and the upload. */
  private uploadStage(job: RunningJob, request: V0JobRequest, outcome: JobRunOutcome): Promise<UploadedResult> {
    return this.runStage(
      job,
      'result_upload',
      (timing) => timing.upload_time_limit,
      () => new StageTimeout('result_upload', job.timing?.upload_time_limit ?? 0),
      async (stageSignal) => {
        const artifacts = request.artifacts_dir ? await collectArtifacts(job.dirs.artifacts, request.artifacts_dir) : {};
        let uploadResults: Record<string, string> = {};
        const upload = request.output_upload;
        if (upload) {
          // The full output goes up with /output. Without an upload nothing would ever read these
          // files (the work dir is removed after the result), so they are written only for one.
          await Promise.all([
            writeOwnFile(join(job.dirs.output, 'stdout.txt'), outcome.stdout),
            writeOwnFile(join(job.dirs.output, 'stderr.txt'), outcome.stderr),
          ]);
          uploadResults = await asJobFailure('upload_failed', 'Upload failed', stageSignal, async (failures) => {
            const { OutputUploadError, uploadOutputs } = await loadUploads();
            failures.push(OutputUploadError);
            return await uploadOutputs(upload, job.dirs.output, {
              maxBytes: this.options.outputMaxBytes,
              egress: this.options.egress,
              signal: stageSignal,
              logger: this.log,
            });
          });
        }
        return { artifacts, uploadResults };
      },
    );
  }

  /** The machine's specs (when read), then the result. */
  private async sendResult(
    job: RunningJob,
    outcome: JobRunOutcome,
    uploaded: UploadedResult,
    machineSpecs: Record<string, unknown> | null,
  ): Promise<void> {
    const { channel } = this.options;
    const jobUuid = job.initial.job_uuid;
    await this.progressSent();
    if (machineSpecs) await channel.send({ message_type: 'V0MachineSpecsRequest', job_uuid: jobUuid, specs: { specs: machineSpecs } });
    await channel.send({
      message_type: 'V0JobFinishedRequest',
      job_uuid: jobUuid,
      docker_process_stdout: truncateOutput(outcome.stdout),
      docker_process_stderr: truncateOutput(outcome.stderr),
      artifacts: uploaded.artifacts,
      upload_results: uploaded.uploadResults,
    });
    this.log.info({ jobUuid, timeLeftMs: job.deadline.leftMs() }, 'job finished');
  }

  /**
   * Sends a progress message (volumes ready, execution done) without holding the job until the
   * socket confirms the write, a turn of the event loop later (~0.2 ms each, on the warm path).
   * The socket keeps the order; a failed write is the job's error at the next `progressSent`,
   * before the result goes (and a lost connection stops the job through `lost` anyway).
   */
  private sendProgress(message: ExecutorToMinerMessage): void {
    const sent = this.options.channel.send(message);
    sent.catch(() => undefined); // seen by progressSent
    this.unconfirmed.push(sent);
  }

  /** Waits for the progress messages sent so far; rejects as the first failed one did. */
  private async progressSent(): Promise<void> {
    const sends = this.unconfirmed;
    this.unconfirmed = [];
    await Promise.all(sends);
  }

  /** The TLS proxy of a streaming job; a port it cannot listen on is `streaming_failed`. */
  private async startProxy(setup: StreamingSetup): Promise<StreamingProxy> {
    const settings = this.options.streaming ?? {};
    const { StreamingProxy } = await loadStreamingProxy();
    try {
      return await StreamingProxy.start({
        server: setup.server,
        clientCertPem: setup.clientCertPem,
        listenHost: settings.listenHost ?? '0.0.0.0',
        listenPort: settings.listenPort ?? 0,
        logger: this.log,
      });
    } catch (error) {
      throw new HordeFailure('streaming_failed', `Failed to start the streaming proxy: ${(error as Error).message}`, undefined, {
        cause: error,
      });
    }
  }

  /** Makes the image available; one that cannot be had is the original's "Failed to pull docker image". */
  private async prepareImage(image: string): Promise<void> {
    try {
      await this.options.runner.prepare(image);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new HordeFailure('generic_error', `Failed to pull docker image ${image}: ${message}`, { image }, { cause: error });
    }
  }

  /** Sends the failure message for `error` and says what happened. */
  private async report(error: unknown): Promise<ExecutorJobOutcome> {
    const stage = this.stage;
    let failure: JobFailure | HordeFailure;
    if (error instanceof JobFailure || error instanceof HordeFailure) failure = error;
    else if (error instanceof StartupCheckFailed) {
      failure = new HordeFailure('security_check_failed', error.message, { check: error.check, ...error.facts }, { cause: error });
    } else if (error instanceof StageTimeout) failure = new JobFailure('timeout', stageTimeoutMessage(error.stage));
    else if (this.options.signal?.aborted) failure = new HordeFailure('generic_error', 'the executor was stopped before the job ended');
    else {
      failure = new HordeFailure('unhandled_exception', 'Unhandled exception', {
        exception_type: error instanceof Error ? error.name : typeof error,
        exception: error instanceof Error ? error.message : String(error),
      });
    }
    const fields = { jobUuid: this.jobUuid, stage, reason: failure.reason, err: error };
    if (this.jobUuid === null) {
      // Nothing to report against: the miner never told us which job this is.
      this.log.error(fields, `executor failed before it got a job: ${failure.message}`);
      return { status: 'horde_failed', reason: failure.reason, stage, message: failure.message };
    }
    const message: ExecutorToMinerMessage =
      failure instanceof JobFailure
        ? {
            message_type: 'V0JobFailedRequest',
            job_uuid: this.jobUuid,
            stage,
            reason: failure.reason,
            message: failure.message,
            docker_process_exit_status: this.execution?.exitCode ?? null,
            docker_process_stdout: this.execution ? truncateOutput(this.execution.stdout) : null,
            docker_process_stderr: this.execution ? truncateOutput(this.execution.stderr) : null,
            context: failure.context ?? null,
          }
        : {
            message_type: 'V0HordeFailedRequest',
            job_uuid: this.jobUuid,
            reported_by: 'executor',
            reason: failure.reason,
            message: failure.message,
            context: { stage, ...(failure.context ?? {}) } satisfies FailureContext,
          };
    this.log.error(fields, failure instanceof JobFailure ? `job failed: ${failure.message}` : `horde failure: ${failure.message}`);
    try {
      await this.options.channel.send(message);
    } catch (sendError) {
      this.log.error({ err: sendError, jobUuid: this.jobUuid }, 'could not report the failure to the miner');
    }
    return failure instanceof JobFailure
      ? { status: 'failed', reason: failure.reason, stage, message: failure.message }
      : { status: 'horde_failed', reason: failure.reason, stage, message: failure.message };
  }
}

/**
 * Writes a file into a directory the job could write to. Whatever the job left at that path goes
 * first, and the file is created afresh (`wx`): a link the job planted there (say `/output/stdout.txt`
 * → `/etc/cron.d/x`, resolved on the host) must never make the executor write outside the job's
 * directories.
 */
async function writeOwnFile(path: string, data: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
  await writeFile(path, data, { flag: 'wx' });
}

/**
 * The startup half of a streaming job: the client's certificate must be one, and the miner must
 * have said where the executor is reachable (the server certificate is made for that address).
 */
async function streamingSetup(details: NonNullable<V0InitialJobRequest['streaming_details']>): Promise<StreamingSetup> {
  if (!details.executor_ip)
    throw new HordeFailure('streaming_failed', 'Missing executor IP: the miner did not say where this executor is reachable');
  const { generateCertificate, InvalidCertificateError, parseCertificate } = await loadTls();
  try {
    parseCertificate(details.public_key);
  } catch (error) {
    if (error instanceof InvalidCertificateError)
      throw new HordeFailure('streaming_failed', `The client's public key is ${error.message}`, undefined, { cause: error });
    throw error;
  }
  return { server: await generateCertificate(details.executor_ip), clientCertPem: details.public_key };
}

/**
 * After the startup stage the deadline starts over: the leeway of `executor_timing` (each stage
 * then extends it), or the old single `timeout_seconds` for the whole job.
 */
function startTiming(deadline: Deadline, initial: V0InitialJobRequest): ExecutorTiming | undefined {
  const timing = initial.executor_timing ?? undefined;
  if (timing) deadline.set(timing.allowed_leeway);
  else if (initial.timeout_seconds !== null && initial.timeout_seconds !== undefined) deadline.set(initial.timeout_seconds);
  else throw new HordeFailure('generic_error', 'No timing received: either timeout_seconds or executor_timing must be set');
  return timing;
}

/**
 * Runs a download or upload whose module loads lazily: an error of one of the classes `work`
 * names (`failures`, filled once the module has loaded) is the job's fault, `reason`; a stopped
 * stage rethrows why it stopped; anything else is the executor's.
 */
async function asJobFailure<T>(
  reason: 'download_failed' | 'upload_failed',
  prefix: string,
  stageSignal: AbortSignal,
  work: (failures: Array<abstract new (...args: never[]) => Error>) => Promise<T>,
): Promise<T> {
  const failures: Array<abstract new (...args: never[]) => Error> = [];
  try {
    return await work(failures);
  } catch (error) {
    if (stageSignal.aborted) throw stageSignal.reason;
    if (error instanceof Error && failures.some((failure) => error instanceof failure))
      throw new JobFailure(reason, `${prefix}: ${error.message}`, undefined, { cause: error });
    throw error;
  }
}

function stageTimeoutMessage(stage: JobStage): string {
  switch (stage) {
    case 'volume_download':
      return 'Download time exceeded';
    case 'execution':
    case 'streaming_startup':
      return 'Execution time exceeded';
    case 'result_upload':
      return 'Upload time exceeded';
    default:
      return `Time exceeded in stage ${stage}`;
  }
}
