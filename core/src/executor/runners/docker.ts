/**
 * `JobRunner` on a Docker Engine (dockerode): the default runner and a security boundary.
 *
 * One job is one container `horde-{jobUuid}-job`:
 *  - no network at all (`NetworkMode: none`) unless the job is a streaming job: then a network of
 *    its own, `horde-{jobUuid}-net`, internal (no route out), which only this machine (the
 *    executor's TLS proxy) reaches; removed with the container;
 *  - the job's directories bound at `/volume`, `/output` and its artifacts path, `raw_script` at
 *    `/script.py` (then the default command is `python /script.py`, as in ComputeHorde);
 *  - memory (without extra swap), pids and CPU limits from the spec, else the runner's defaults
 *    (`DEFAULT_LIMITS`: three quarters of the machine's memory, 1024 processes);
 *  - hardened by default (`ContainerHardening`): every capability dropped and no-new-privileges,
 *    the engine's log of the output bounded, the writable layer capped where the storage driver
 *    supports a size, `/output` and the artifacts directory writable by whatever user the image
 *    runs as;
 *  - preset `nvidia_all` asks for every GPU through the NVIDIA device driver, or only the executor's
 *    own GPUs when it was pinned to some (`gpuDevices`, i.e. `--gpus device=N`);
 *  - killed when the execution time limit passes (`timedOut`) or the signal aborts;
 *  - removed afterwards, whatever happened;
 *  - labelled with the job uuid and the executor process that made it (`OWNER_LABELS`), so a
 *    later executor can tell a crashed run's leftover from a neighbour's running job.
 */
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import DockerodeClient from './dockerode-loader.js';
import type { JobRunner, JobRunOutcome, JobRunSpec, Logger } from '../../contracts/index.js';
import { GpuUnavailableError, ImageNotFoundError, JobRunnerError } from './errors.js';
import { DEFAULT_MAX_CAPTURE_BYTES, OutputCapture } from './output-capture.js';
import { definedFields } from '../../object/defined-fields.js';

export { GpuUnavailableError, ImageNotFoundError, JobRunnerError } from './errors.js';

export interface ContainerLimits {
  readonly memoryBytes?: number;
  readonly pids?: number;
  readonly nanoCpus?: number;
}

/** `horde-{jobUuid}-job`: the name of every container this runner makes. */
export function jobContainerName(jobUuid: string): string {
  return `horde-${jobUuid}-job`;
}

/** `horde-{jobUuid}-net`: a streaming job's own internal network. */
export function jobNetworkName(jobUuid: string): string {
  return `horde-${jobUuid}-net`;
}

/** Matches `jobNetworkName`. */
export const JOB_NETWORK_NAME = /^horde-.+-net$/;

/** Where a streaming job's server listens in its container (ComputeHorde's `JOB_CONTAINER_PORT`). */
export const STREAMING_CONTAINER_PORT = 8000;

/** Matches `jobContainerName` (Docker reports names with a leading slash). */
export const JOB_CONTAINER_NAME = /^\/?horde-.+-job$/;

/**
 * Which executor process created a job container, as container labels. The startup stage's
 * cleanup removes `horde-*-job` containers whose owner is gone, and only those: several executors
 * may share one Docker engine, and a live one's container is not a leftover.
 */
export const OWNER_LABELS = {
  host: 'horde.executor.host',
  bootId: 'horde.executor.boot-id',
  pid: 'horde.executor.pid',
} as const;

export interface ContainerOwner {
  readonly host: string;
  /** The kernel's boot id: a pid from before a reboot names nobody now. Empty when unknown. */
  readonly bootId: string;
  readonly pid: number;
}

/** This process as a container owner. */
export function currentOwner(): ContainerOwner {
  let bootId = '';
  try {
    bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    // Not Linux, or /proc hidden: the host and pid still say enough.
  }
  return { host: hostname(), bootId, pid: process.pid };
}

/**
 * A job run with the two container settings a startup check needs besides the job's own: its
 * entrypoint and user. Neither touches the HostConfig, so a check run has exactly the isolation a
 * job gets.
 */
export interface DockerJobRunSpec extends JobRunSpec {
  /** Replaces the image's ENTRYPOINT (a check must not run through an image's wrapper). */
  readonly entrypoint?: readonly string[];
  /** `user[:group]` to run as instead of the image's USER. */
  readonly user?: string;
}

/**
 * What every job container gets besides its resource limits; each part can be turned off or
 * changed (`executor.jobLimits`).
 */
export interface ContainerHardening {
  /** `CapDrop: ALL` and `no-new-privileges`: root in the container is no root at all. */
  readonly dropCapabilities: boolean;
  /** Largest engine log of the job's output (json-file `max-size`); the runner reads the stream itself. */
  readonly logBytes: number;
  /** Size of the writable layer (`StorageOpt.size`), where the storage driver supports one; null: none. */
  readonly diskBytes: number | null;
  /** `uid[:gid]` every job runs as; null: the image's USER (Docker's default). */
  readonly user: string | null;
}

export const DEFAULT_HARDENING: ContainerHardening = {
  dropCapabilities: true,
  logBytes: 16 * 1024 * 1024,
  diskBytes: 20 * 1024 * 1024 * 1024,
  user: null,
};

/** A memory cap when none is configured: a job must not take the executor (and the host) down. */
export function defaultMemoryBytes(): number {
  return Math.floor(totalmem() * 0.75);
}

export interface DockerJobRunnerOptions {
  /** Default: `new Dockerode()`, which honours `DOCKER_HOST`. */
  readonly docker?: Dockerode;
  readonly logger: Logger;
  /** Limits for specs that set none. Default `DEFAULT_LIMITS`: 1024 pids, 3/4 of the machine's memory, no CPU cap. */
  readonly defaultLimits?: ContainerLimits;
  /** Default `DEFAULT_HARDENING`. */
  readonly hardening?: ContainerHardening;
  /** Bytes of stdout and of stderr kept in memory (head and tail); default 64 MiB each. */
  readonly maxCaptureBytes?: number;
  /** How long a pull may take before the image counts as unavailable; default 20 min. */
  readonly pullTimeoutMs?: number;
  /** Labels its containers with this owner; default this process (`currentOwner()`). */
  readonly owner?: ContainerOwner;
  /**
   * The GPUs this executor was given (`pinnedGpus`, from the executor manager's
   * `CUDA_VISIBLE_DEVICES`): `nvidia_all` jobs get only these devices. Default: every GPU.
   */
  readonly gpuDevices?: readonly string[];
}

/** 1024 processes stop a fork bomb well before it loads the host; memory as `defaultMemoryBytes`. */
export const DEFAULT_PIDS_LIMIT = 1024;
const DEFAULT_LIMITS = (): ContainerLimits => ({ pids: DEFAULT_PIDS_LIMIT, memoryBytes: defaultMemoryBytes() });

/** The engine's answer when its storage driver cannot cap a container's writable layer. */
const STORAGE_OPT_UNSUPPORTED = /storage-?opt|storage option|quota|not supported/i;

/** Docker's own name for "no such image" answers, across engine versions. */
const IMAGE_MISSING = /no such image|not found|manifest unknown|pull access denied|repository does not exist/i;

interface DockerError {
  statusCode?: number;
  json?: { message?: string } | null;
  message?: string;
}

function dockerMessage(error: unknown): string {
  const e = error as DockerError;
  return e?.json?.message ?? e?.message ?? String(error);
}

/** `busybox` → `busybox:latest` (an untagged pull would fetch every tag); digests stay as they are. */
export function withDefaultTag(image: string): string {
  if (image.includes('@')) return image;
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  return lastSegment.includes(':') ? image : `${image}:latest`;
}

export class DockerJobRunner implements JobRunner {
  readonly name = 'docker';
  /** The engine it runs containers on (startup checks ask it about itself). */
  readonly docker: Dockerode;
  readonly owner: ContainerOwner;
  private readonly logger: Logger;
  private readonly defaultLimits: ContainerLimits;
  private readonly maxCaptureBytes: number;
  private readonly pullTimeoutMs: number;
  private readonly hardening: ContainerHardening;
  /** Cleared once the engine said it cannot cap the writable layer (asked once per runner). */
  private diskCapSupported = true;
  private readonly gpuDevices: readonly string[] | null;

  constructor(options: DockerJobRunnerOptions) {
    this.docker = options.docker ?? new DockerodeClient();
    this.logger = options.logger;
    this.defaultLimits = options.defaultLimits ?? DEFAULT_LIMITS();
    this.hardening = options.hardening ?? DEFAULT_HARDENING;
    this.maxCaptureBytes = options.maxCaptureBytes ?? DEFAULT_MAX_CAPTURE_BYTES;
    this.pullTimeoutMs = options.pullTimeoutMs ?? 20 * 60_000;
    this.owner = options.owner ?? currentOwner();
    this.gpuDevices = options.gpuDevices && options.gpuDevices.length > 0 ? [...options.gpuDevices] : null;
  }

  /** Uses the local image if there is one, else pulls it. */
  async prepare(image: string): Promise<void> {
    const ref = withDefaultTag(image);
    try {
      await this.docker.getImage(ref).inspect();
      return;
    } catch (error) {
      if ((error as DockerError).statusCode !== 404) {
        throw new JobRunnerError(`Docker engine error while looking for image ${ref}: ${dockerMessage(error)}`, { cause: error });
      }
    }
    const started = Date.now();
    this.logger.info({ image: ref }, 'pulling image');
    try {
      await this.pull(ref);
    } catch (error) {
      throw new ImageNotFoundError(image, `Image ${ref} is not on this executor and could not be pulled: ${dockerMessage(error)}`, {
        cause: error,
      });
    }
    this.logger.info({ image: ref, ms: Date.now() - started }, 'image pulled');
  }

  /**
   * Pulls `ref`, giving up after `pullTimeoutMs`. On the timeout the pull request to the engine is
   * aborted (before or after its response started) and its progress stream destroyed, so nothing
   * of the pull stays open in this process; whatever settles afterwards (the aborted request, the
   * stream's error) lands in a settled promise and is ignored, never an unhandled rejection.
   * Whether the engine then also stops its own fetch from the registry is the engine's business:
   * dockerd, for one, still finishes a registry handshake under way after its client left.
   */
  private pull(ref: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const abort = new AbortController();
      let stream: NodeJS.ReadableStream | null = null;
      let settled = false;
      const done = (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      const stop = (progress: NodeJS.ReadableStream) => {
        progress.on('error', () => undefined); // a destroyed response may still report the abort
        (progress as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      };
      const timer = setTimeout(() => {
        done(new JobRunnerError(`pull did not finish within ${this.pullTimeoutMs} ms`));
        abort.abort();
        if (stream) stop(stream);
      }, this.pullTimeoutMs);
      this.docker.pull(ref, { abortSignal: abort.signal }).then((progress: NodeJS.ReadableStream) => {
        stream = progress;
        if (settled) {
          stop(progress);
          return;
        }
        // Errors in the middle of a pull arrive as progress events, which followProgress reports.
        this.docker.modem.followProgress(progress, (error: Error | null) => done(error));
      }, done);
    });
  }

  async run(spec: DockerJobRunSpec): Promise<JobRunOutcome> {
    const name = jobContainerName(spec.jobUuid);
    const log = this.logger.child({ jobUuid: spec.jobUuid, container: name });
    const scratch = spec.rawScript !== undefined ? await mkdtemp(join(tmpdir(), 'horde-script-')) : null;
    const stdout = new OutputCapture(this.maxCaptureBytes);
    const stderr = new OutputCapture(this.maxCaptureBytes);
    let container: Dockerode.Container | null = null;
    const network = spec.network === 'streaming' ? jobNetworkName(spec.jobUuid) : null;
    try {
      if (network) await this.createJobNetwork(network, spec.jobUuid, log);
      container = await this.createReplacingLeftover(name, spec, scratch, log);

      // Attach before start, so not a byte of output is missed.
      const attached = await container.attach({ stream: true, stdout: true, stderr: true });
      const outStream = new PassThrough();
      const errStream = new PassThrough();
      outStream.on('data', (chunk: Buffer) => stdout.write(chunk));
      errStream.on('data', (chunk: Buffer) => stderr.write(chunk));
      const streamEnded = new Promise<void>((resolve) => {
        attached.on('end', resolve);
        attached.on('close', resolve);
        attached.on('error', resolve);
      });
      this.docker.modem.demuxStream(attached, outStream, errStream);

      // 'next-exit': the default condition answers at once for a container not started yet.
      const exit = container.wait({ condition: 'next-exit' }) as Promise<{ StatusCode: number }>;
      exit.catch(() => {}); // observed in waitForExit; never an unhandled rejection if start fails
      const started = Date.now();
      const startFailure = await this.start(container, spec);
      if (startFailure) {
        log.info({ exitCode: startFailure.exitCode, reason: startFailure.stderr }, 'job command could not be started');
        return { ...startFailure, timedOut: false, oomKilled: false, stdout: '', durationMs: Date.now() - started };
      }
      log.info({ image: spec.image, network: spec.network, preset: spec.preset }, 'job container started');
      if (network) await this.reportServer(container, network, spec, log);

      const ending = await this.waitForExit(container, exit, spec);
      const durationMs = Date.now() - started;
      // The attach stream ends with the container; give it a moment to deliver the last bytes.
      await Promise.race([streamEnded, new Promise((r) => setTimeout(r, 2000))]);

      const state = (await container.inspect().catch(() => null))?.State;
      const outcome: JobRunOutcome = {
        exitCode: ending.kind === 'exited' ? ending.statusCode : null,
        timedOut: ending.kind === 'timeout',
        oomKilled: state?.OOMKilled === true,
        stdout: stdout.text(),
        stderr: stderr.text(),
        durationMs,
      };
      log.info(
        {
          exitCode: outcome.exitCode,
          timedOut: outcome.timedOut,
          aborted: ending.kind === 'aborted',
          oomKilled: outcome.oomKilled,
          durationMs,
        },
        'job container finished',
      );
      return outcome;
    } finally {
      if (container) await this.removeContainer(container, log);
      if (network) await this.removeJobNetwork(network, log);
      if (scratch) await rm(scratch, { recursive: true, force: true });
    }
  }

  /** A streaming job's own network: internal, so the job reaches nothing and only this host reaches it. */
  private async createJobNetwork(name: string, jobUuid: string, log: Logger): Promise<void> {
    await this.removeJobNetwork(name, log); // a crashed earlier run of this job may have left it
    try {
      await this.docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        Internal: true,
        CheckDuplicate: true,
        Labels: {
          'horde.job-uuid': jobUuid,
          [OWNER_LABELS.host]: this.owner.host,
          [OWNER_LABELS.bootId]: this.owner.bootId,
          [OWNER_LABELS.pid]: String(this.owner.pid),
        },
      });
    } catch (error) {
      throw new JobRunnerError(`Could not create the streaming job's network ${name}: ${dockerMessage(error)}`, { cause: error });
    }
  }

  private async removeJobNetwork(name: string, log: Logger): Promise<void> {
    try {
      await this.docker.getNetwork(name).remove();
    } catch (error) {
      if ((error as DockerError).statusCode !== 404)
        log.error({ err: dockerMessage(error), network: name }, 'could not remove the job network');
    }
  }

  /** Tells the caller the job container's address on its network (the TLS proxy's upstream). */
  private async reportServer(container: Dockerode.Container, network: string, spec: JobRunSpec, log: Logger): Promise<void> {
    const info = await container.inspect().catch(() => null);
    const ip = info?.NetworkSettings?.Networks?.[network]?.IPAddress;
    if (!ip) {
      // The container exited before it could be inspected; its exit is the outcome.
      log.warn({ network }, 'the streaming job container has no address on its network');
      return;
    }
    spec.onServerStarted?.({ host: ip, port: STREAMING_CONTAINER_PORT });
  }

  /**
   * Creates the container; a container of the same name can only be a leftover of a crashed
   * earlier run of this job: the engine then answers 409, and it is removed and the create tried
   * once more. (Removing first would cost every job, and every probe, a round trip to the engine
   * for a case that almost never happens.)
   */
  private async createReplacingLeftover(
    name: string,
    spec: DockerJobRunSpec,
    scratch: string | null,
    log: Logger,
  ): Promise<Dockerode.Container> {
    try {
      return await this.create(name, spec, scratch);
    } catch (error) {
      if (!(error instanceof JobRunnerError) || (error.cause as DockerError | undefined)?.statusCode !== 409) throw error;
      log.warn({ container: name }, 'removing a leftover container of an earlier run of this job');
      await this.removeContainer(this.docker.getContainer(name), log);
      return await this.create(name, spec, scratch);
    }
  }

  private async create(name: string, spec: DockerJobRunSpec, scratch: string | null): Promise<Dockerode.Container> {
    // Without capabilities even root in the container cannot write into a directory it does not
    // own, and a non-root image user never could: the job's output directories are open to it.
    // Their parent (the executor's job directory) stays private to the executor on the host.
    await chmod(spec.outputDir, 0o777).catch(() => {});
    if (spec.artifactsMountPath) await chmod(spec.artifactsDir, 0o777).catch(() => {});
    const binds = [`${spec.volumeDir}:/volume/`, `${spec.outputDir}:/output/`];
    if (spec.artifactsMountPath) binds.push(`${spec.artifactsDir}:${spec.artifactsMountPath}`);
    let cmd: string[] | undefined = spec.command.length > 0 ? [...spec.command] : undefined;
    if (scratch !== null && spec.rawScript !== undefined) {
      const script = join(scratch, 'script.py');
      await writeFile(script, spec.rawScript);
      binds.push(`${script}:/script.py:ro`);
      cmd ??= ['python', '/script.py'];
    }
    const user = spec.user ?? this.hardening.user ?? undefined;
    const options = (withDiskCap: boolean): Dockerode.ContainerCreateOptions => ({
      name,
      Image: withDefaultTag(spec.image),
      ...definedFields({ Cmd: cmd }),
      ...(spec.entrypoint ? { Entrypoint: [...spec.entrypoint] } : {}),
      ...definedFields({ User: user }),
      Env: [
        ...Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
        ...(spec.network === 'streaming' ? [`HORDE_STREAMING_PORT=${STREAMING_CONTAINER_PORT}`] : []),
      ],
      Labels: {
        'horde.job-uuid': spec.jobUuid,
        [OWNER_LABELS.host]: this.owner.host,
        [OWNER_LABELS.bootId]: this.owner.bootId,
        [OWNER_LABELS.pid]: String(this.owner.pid),
      },
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      NetworkDisabled: spec.network !== 'streaming',
      HostConfig: { ...this.hostConfig(spec, binds), ...(withDiskCap ? this.diskCap() : {}) },
    });
    try {
      if (!this.diskCapSupported || this.hardening.diskBytes === null) return await this.docker.createContainer(options(false));
      try {
        return await this.docker.createContainer(options(true));
      } catch (error) {
        if (!STORAGE_OPT_UNSUPPORTED.test(dockerMessage(error))) throw error;
        // overlay2 needs xfs with pquota for a size; elsewhere the layer stays uncapped, said once.
        this.diskCapSupported = false;
        this.logger.warn(
          { err: dockerMessage(error) },
          'the Docker storage driver cannot cap a container writable layer; job containers run without a disk cap',
        );
        return await this.docker.createContainer(options(false));
      }
    } catch (error) {
      if ((error as DockerError).statusCode === 404 && IMAGE_MISSING.test(dockerMessage(error))) {
        throw new ImageNotFoundError(
          spec.image,
          `Image ${withDefaultTag(spec.image)} is not on this executor (prepare() pulls it): ${dockerMessage(error)}`,
          {
            cause: error,
          },
        );
      }
      throw new JobRunnerError(`Could not create the job container: ${dockerMessage(error)}`, { cause: error });
    }
  }

  /**
   * What decides how a container with no job-specific settings (no network, no GPUs, no limits of
   * its own, no binds: the startup checks' probe) is confined, as one stable string: the
   * HostConfig this runner gives it (through `hostConfig`, so a subclass's changes count), the
   * writable-layer cap and the user it runs as. A startup check result cached under it holds only
   * for a runner that confines containers the same way.
   */
  isolationFingerprint(): string {
    const probe: JobRunSpec = {
      jobUuid: 'fingerprint',
      image: 'fingerprint',
      command: [],
      env: {},
      preset: 'none',
      volumeDir: '/volume',
      outputDir: '/output',
      artifactsDir: '/artifacts',
      artifactsMountPath: '/artifacts',
      network: 'none',
      timeoutMs: 1,
    };
    const { Binds: _binds, ...hostConfig } = this.hostConfig(probe, []);
    return stableJson({ hostConfig, diskCap: this.diskCap(), user: this.hardening.user ?? null });
  }

  /** The engine's id (`sha256:…`) of the local image `image`; a tag can be moved to another image, an id cannot. */
  async imageId(image: string): Promise<string> {
    try {
      return (await this.docker.getImage(withDefaultTag(image)).inspect()).Id;
    } catch (error) {
      throw new JobRunnerError(`Docker engine error while looking for image ${withDefaultTag(image)}: ${dockerMessage(error)}`, {
        cause: error,
      });
    }
  }

  /**
   * The isolation every container of this runner gets: jobs and the startup checks' probe alike.
   * Protected so a test can hand the escape check a deliberately unsafe variant and watch it fail.
   */
  protected hostConfig(spec: JobRunSpec, binds: string[]): Dockerode.HostConfig {
    const limits = { ...this.defaultLimits, ...spec.limits };
    const { dropCapabilities, logBytes } = this.hardening;
    return {
      ...(dropCapabilities ? { CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges:true'] } : {}),
      LogConfig: { Type: 'json-file', Config: { 'max-size': String(logBytes), 'max-file': '1' } },
      NetworkMode: spec.network === 'streaming' ? jobNetworkName(spec.jobUuid) : 'none',
      Binds: binds,
      AutoRemove: false, // removed by us after reading the exit state
      ...(limits.memoryBytes !== undefined ? { Memory: limits.memoryBytes, MemorySwap: limits.memoryBytes } : {}),
      ...definedFields({ PidsLimit: limits.pids, NanoCpus: limits.nanoCpus }),
      ...(spec.preset === 'nvidia_all' ? { DeviceRequests: [this.gpuRequest()] } : {}),
    };
  }

  /** `--gpus all`, or `--gpus device=…` for an executor pinned to its own GPUs. */
  private gpuRequest(): Dockerode.DeviceRequest {
    return this.gpuDevices
      ? { Driver: 'nvidia', DeviceIDs: [...this.gpuDevices], Capabilities: [['gpu']] }
      : { Driver: 'nvidia', Count: -1, Capabilities: [['gpu']] };
  }

  private diskCap(): Dockerode.HostConfig {
    return this.hardening.diskBytes === null ? {} : { StorageOpt: { size: String(this.hardening.diskBytes) } };
  }

  /**
   * Starts the container. A command that does not exist or may not be executed is the job's
   * fault, not the executor's: like `docker run`, it becomes exit code 127 / 126 with the reason
   * on stderr (returned), so the job fails with `nonzero_return_code`.
   */
  private async start(container: Dockerode.Container, spec: JobRunSpec): Promise<{ exitCode: number; stderr: string } | null> {
    try {
      await container.start();
      return null;
    } catch (error) {
      const message = dockerMessage(error);
      if (/executable file not found|no such file or directory/i.test(message)) return { exitCode: 127, stderr: `${message}\n` };
      if (/permission denied/i.test(message)) return { exitCode: 126, stderr: `${message}\n` };
      if (/could not select device driver|nvidia/i.test(message) && spec.preset === 'nvidia_all') {
        throw new GpuUnavailableError(
          `The job asked for GPUs (preset nvidia_all) but this Docker engine cannot provide them (${message}). ` +
            'Install the NVIDIA driver and nvidia-container-toolkit on the executor host, or run only CPU executor classes here.',
          { cause: error },
        );
      }
      throw new JobRunnerError(`Could not start the job container: ${message}`, { cause: error });
    }
  }

  private async waitForExit(
    container: Dockerode.Container,
    exit: Promise<{ StatusCode: number }>,
    spec: JobRunSpec,
  ): Promise<{ kind: 'exited'; statusCode: number } | { kind: 'timeout' } | { kind: 'aborted' }> {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const stop = new Promise<'timeout' | 'aborted'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), spec.timeoutMs);
      if (spec.signal) {
        onAbort = () => resolve('aborted');
        if (spec.signal.aborted) onAbort();
        else spec.signal.addEventListener('abort', onAbort, { once: true });
      }
    });
    try {
      const first = await Promise.race([exit.then((r) => ({ kind: 'exited' as const, statusCode: r.StatusCode })), stop]);
      if (typeof first !== 'string') return first;
      // Kill and let wait() observe the exit, so the container is stopped before it is removed.
      await container.kill().catch(() => {});
      await exit.catch(() => {});
      return { kind: first };
    } finally {
      clearTimeout(timer);
      if (onAbort) spec.signal?.removeEventListener('abort', onAbort);
    }
  }

  private async removeContainer(container: Dockerode.Container, log: Logger): Promise<void> {
    try {
      await container.remove({ force: true, v: true });
    } catch (error) {
      const status = (error as DockerError).statusCode;
      // 404: already gone; 409: removal already in progress.
      if (status !== 404 && status !== 409) log.error({ err: dockerMessage(error) }, 'could not remove job container');
    }
  }
}

/** JSON with object keys sorted at every level: equal settings give equal text. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}
