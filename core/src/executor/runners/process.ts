/**
 * `JobRunner` that runs a job as a local process, for machines without Docker (development,
 * devnets, trusted single-tenant hosts).
 *
 * NOT A SECURITY BOUNDARY. The job runs as the executor's user, sees the whole file system and
 * the network, and no memory or CPU limit applies (`network: 'none'` and `limits` cannot be
 * enforced and are ignored). Use it only for jobs you trust; use `DockerJobRunner` for anything
 * from the network.
 *
 * How a job maps onto a process:
 *  - the image name is looked up in `images` (e.g. `{ 'python:3.11': ['python3'] }`); an image
 *    that is not there is `ImageNotFoundError`;
 *  - argv = that program and its arguments, then the job's command (or, when the job sent a
 *    `raw_script` and no command, the path of the script file);
 *  - cwd is the job's `scratchDir` (made before the job request, removed after the result: neither
 *    is on the job's critical path), or without one a fresh temporary directory, removed afterwards;
 *  - there is no `/volume`: the job reads its input from `$HORDE_VOLUME_DIR` and writes to
 *    `$HORDE_OUTPUT_DIR` and `$HORDE_ARTIFACTS_DIR` (the script file is `$HORDE_SCRIPT_PATH`);
 *  - the environment is the job's env plus those variables, PATH, HOME (= cwd) and LANG; nothing
 *    else of the executor's environment (its tokens and keys) is passed on;
 *  - a streaming job's server listens on 127.0.0.1:`$HORDE_STREAMING_PORT` (a free port picked per
 *    job; loopback, so only this machine, the executor's TLS proxy, reaches it);
 *  - on timeout or abort the whole process group is killed; when the main process exits, any
 *    process it left behind in its group is killed too;
 *  - with `standbyShell` (the executor agent), the first job's process is a shell started with the
 *    runner, which execs the job's program as spawn would have started it (`StandbyShell`).
 */
import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { delimiter, isAbsolute, join } from 'node:path';
import { constants as osConstants } from 'node:os';
import type { JobRunner, JobRunOutcome, JobRunSpec, Logger } from '../../contracts/index.js';
import { ImageNotFoundError, JobRunnerError } from './errors.js';
import { StandbyShell } from './standby-shell.js';
import { DEFAULT_MAX_CAPTURE_BYTES, OutputCapture } from './output-capture.js';

export { ImageNotFoundError, JobRunnerError } from './errors.js';

export interface ProcessJobRunnerOptions {
  /** Image name → argv of the local program that stands in for it. */
  readonly images: Readonly<Record<string, readonly string[]>>;
  readonly logger: Logger;
  /** Bytes of stdout and of stderr kept in memory (head and tail); default 64 MiB each. */
  readonly maxCaptureBytes?: number;
  /** The GPUs this executor was given (`pinnedGpus`): every job sees only these, whatever its env says. */
  readonly gpuDevices?: readonly string[];
  /**
   * Start a shell at construction that the first job's process becomes (`StandbyShell`): the fork
   * of this process leaves the job's critical path. For the executor agent, which runs one job.
   */
  readonly standbyShell?: boolean;
}

async function isExecutable(path: string): Promise<boolean> {
  return access(path, fsConstants.X_OK).then(
    () => true,
    () => false,
  );
}

/** The program's path as spawn would find it, or null. */
async function findProgram(program: string): Promise<string | null> {
  if (program.includes('/')) return (await isExecutable(program)) ? program : null;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isAbsolute(dir) && (await isExecutable(join(dir, program)))) return join(dir, program);
  }
  return null;
}

const LOOPBACK = '127.0.0.1';

/** A port free on loopback now (the OS picks it; the job binds it moments later). */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export class ProcessJobRunner implements JobRunner {
  readonly name = 'process';
  private readonly images: Readonly<Record<string, readonly string[]>>;
  private readonly logger: Logger;
  private readonly maxCaptureBytes: number;
  private readonly gpuDevices: readonly string[] | null;
  private standby: StandbyShell | null;

  constructor(options: ProcessJobRunnerOptions) {
    this.images = options.images;
    this.logger = options.logger;
    this.maxCaptureBytes = options.maxCaptureBytes ?? DEFAULT_MAX_CAPTURE_BYTES;
    this.gpuDevices = options.gpuDevices ?? null;
    this.standby = options.standbyShell ? StandbyShell.start(this.logger) : null;
  }

  private argvFor(image: string): readonly string[] {
    const argv = Object.hasOwn(this.images, image) ? this.images[image] : undefined;
    if (!argv || argv.length === 0) {
      const known = Object.keys(this.images);
      throw new ImageNotFoundError(
        image,
        `The process runner has no program for image "${image}". Map it in the executor config ` +
          `(images: { "${image}": ["program", "args"] }); mapped now: ${known.length ? known.join(', ') : 'none'}.`,
      );
    }
    return argv;
  }

  /** Checks the image is mapped and its program can be executed. */
  async prepare(image: string): Promise<void> {
    const [program] = this.argvFor(image);
    if ((await findProgram(program!)) === null) {
      throw new ImageNotFoundError(image, `Image "${image}" maps to "${program}", which is not an executable on this machine's PATH.`);
    }
  }

  async run(spec: JobRunSpec): Promise<JobRunOutcome> {
    const base = this.argvFor(spec.image);
    const log = this.logger.child({ jobUuid: spec.jobUuid, runner: 'process' });
    const ownCwd = spec.scratchDir === undefined;
    const cwd = spec.scratchDir ?? (await mkdtemp(join(tmpdir(), 'horde-job-')));
    try {
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
        HOME: cwd,
        LANG: process.env.LANG ?? 'C.UTF-8',
        ...spec.env,
        HORDE_VOLUME_DIR: spec.volumeDir,
        HORDE_OUTPUT_DIR: spec.outputDir,
        HORDE_ARTIFACTS_DIR: spec.artifactsDir,
        // After the job's env: a job cannot reach for another executor's GPU.
        ...(this.gpuDevices ? { CUDA_VISIBLE_DEVICES: this.gpuDevices.join(',') } : {}),
      };
      let jobArgs: string[] = [...spec.command];
      if (spec.rawScript !== undefined) {
        const script = join(cwd, 'script.py');
        await writeFile(script, spec.rawScript);
        env.HORDE_SCRIPT_PATH = script;
        if (jobArgs.length === 0) jobArgs = [script];
      }
      const streamingPort = spec.network === 'streaming' ? await freeLoopbackPort() : null;
      if (streamingPort !== null) {
        env.HORDE_STREAMING_PORT = String(streamingPort);
        env.HORDE_STREAMING_HOST = LOOPBACK;
      }
      const [program, ...args] = [...base, ...jobArgs];
      if (spec.network === 'none' || spec.limits) {
        log.debug('the process runner cannot cut the network or enforce limits; the job runs unconfined');
      }
      return await this.spawnJob(program!, args, cwd, env, spec, log, streamingPort);
    } finally {
      if (ownCwd) await rm(cwd, { recursive: true, force: true });
    }
  }

  private spawnJob(
    program: string,
    args: string[],
    cwd: string,
    env: Record<string, string>,
    spec: JobRunSpec,
    log: Logger,
    streamingPort: number | null,
  ): Promise<JobRunOutcome> {
    const stdout = new OutputCapture(this.maxCaptureBytes);
    const stderr = new OutputCapture(this.maxCaptureBytes);
    const started = Date.now();
    return new Promise<JobRunOutcome>((resolve, reject) => {
      // The waiting shell becomes the job, else a new process; detached either way: the job leads
      // its own process group, so one kill reaches everything it started.
      const standing = this.standby?.take(program, args, cwd, env) ?? null;
      this.standby = null;
      const child = standing ?? spawn(program, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      let stoppedBy: 'timeout' | 'aborted' | null = null;
      const killGroup = () => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // ESRCH: the group is already gone.
        }
      };
      const stop = (reason: 'timeout' | 'aborted') => {
        if (stoppedBy === null && child.exitCode === null && child.signalCode === null) {
          stoppedBy = reason;
          killGroup();
        }
      };
      const timer = setTimeout(() => stop('timeout'), spec.timeoutMs);
      const onAbort = () => stop('aborted');
      if (spec.signal?.aborted) onAbort();
      else spec.signal?.addEventListener('abort', onAbort, { once: true });

      const serverStarted = () => {
        if (streamingPort !== null) spec.onServerStarted?.({ host: LOOPBACK, port: streamingPort });
      };
      if (standing) process.nextTick(serverStarted);
      else child.once('spawn', serverStarted);
      child.stdout!.on('data', (chunk: Buffer) => stdout.write(chunk));
      child.stderr!.on('data', (chunk: Buffer) => stderr.write(chunk));
      // The main process has exited: whatever it left running in its group goes too (a container
      // stops all its processes the same way), which also releases the pipes.
      child.on('exit', killGroup);
      child.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        spec.signal?.removeEventListener('abort', onAbort);
        if (error.code === 'ENOENT' || error.code === 'EACCES') {
          // Like a shell: a missing program is exit 127, one that may not run is 126.
          resolve({
            exitCode: error.code === 'ENOENT' ? 127 : 126,
            timedOut: false,
            oomKilled: false,
            stdout: '',
            stderr: `${program}: ${error.message}\n`,
            durationMs: Date.now() - started,
          });
        } else {
          reject(new JobRunnerError(`Could not start ${program}: ${error.message}`, { cause: error }));
        }
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        spec.signal?.removeEventListener('abort', onAbort);
        const signalNumber = signal ? (osConstants.signals[signal] ?? 0) : 0;
        const outcome: JobRunOutcome = {
          // Killed by us: no exit code. Killed by another signal: 128 + n, as a shell reports it.
          exitCode: stoppedBy !== null ? null : (code ?? 128 + signalNumber),
          timedOut: stoppedBy === 'timeout',
          oomKilled: false,
          stdout: stdout.text(),
          stderr: stderr.text(),
          durationMs: Date.now() - started,
        };
        log.info(
          { exitCode: outcome.exitCode, timedOut: outcome.timedOut, aborted: stoppedBy === 'aborted', durationMs: outcome.durationMs },
          'job process finished',
        );
        resolve(outcome);
      });
    });
  }
}
