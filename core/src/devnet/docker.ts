import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type Dockerode from 'dockerode';
import { DevnetPreflightError } from './errors.js';

/** Where dockerode (and the executors) will look for the engine. */
export function dockerEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return env['DOCKER_HOST'] ?? 'unix:///var/run/docker.sock';
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new DevnetPreflightError(`${what} took longer than ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Reads a build or pull progress stream to its end; fails on the first error it reports. */
function followProgress(docker: Dockerode, stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (error: Error | null, output: Array<{ error?: string; errorDetail?: { message?: string } }>) => {
      if (error) return reject(error);
      const failed = output.find((entry) => entry.error ?? entry.errorDetail?.message);
      if (failed) return reject(new DevnetPreflightError(failed.errorDetail?.message ?? failed.error));
      resolve();
    });
  });
}

/**
 * `--docker`: checks, before anything starts, that a Docker engine answers (`DOCKER_HOST`, else the
 * default socket) and that the hash-crack job image exists there, building it from the plugin's
 * `job/Dockerfile` when it does not (the build pulls `node:20-alpine`, so it needs the network
 * once). Refuses with the command to run by hand when either fails.
 */
export async function prepareDocker(image: string, crackScript: string): Promise<void> {
  const endpoint = dockerEndpoint();
  const { default: Docker } = await import('dockerode');
  const docker = new Docker();
  try {
    await withTimeout(docker.ping(), 5_000, 'the Docker ping');
  } catch (error) {
    throw new DevnetPreflightError(
      `--docker: no Docker engine answers at ${endpoint} (${(error as Error).message}). Start Docker or point DOCKER_HOST at an engine, or leave out --docker to run jobs as local processes.`,
      { cause: error },
    );
  }
  try {
    await docker.getImage(image).inspect();
    return;
  } catch {
    // Not there yet: build it below.
  }
  const context = dirname(crackScript);
  const manual = `docker build -t ${image} ${context}`;
  if (!existsSync(join(context, 'Dockerfile'))) {
    throw new DevnetPreflightError(
      `--docker: the job image ${image} is not in the engine at ${endpoint}, and there is no Dockerfile in ${context} to build it from.`,
    );
  }
  let buildError: Error;
  try {
    const stream = await docker.buildImage({ context, src: ['Dockerfile', 'crack.mjs'] }, { t: image });
    await withTimeout(followProgress(docker, stream), 300_000, `building ${image}`);
    return;
  } catch (error) {
    buildError = error as Error;
  }
  // No registry (the build pulls node:20-alpine): an image made of this machine's own Node.
  try {
    await importHostNodeImage(docker, image, crackScript);
  } catch (error) {
    throw new DevnetPreflightError(
      `--docker: the job image ${image} is not in the engine at ${endpoint}; building it failed (${buildError.message}) and so did importing it from this machine's node (${(error as Error).message}). Build it yourself (${manual}), or leave out --docker.`,
      { cause: error },
    );
  }
}

/**
 * Linux only: imports a registry-free image holding this machine's `node` binary, the shared
 * libraries `ldd` names for it, and `crack.mjs`, with the same entrypoint as `job/Dockerfile`. The
 * job behaves the same; only the base differs (this Node instead of node:20-alpine).
 */
export async function importHostNodeImage(docker: Dockerode, image: string, crackScript: string): Promise<void> {
  if (process.platform !== 'linux')
    throw new DevnetPreflightError(`a host Node binary only runs in a Linux engine (this is ${process.platform})`);
  const { execFile, spawn } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { copyFileSync, mkdtempSync, mkdirSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const node = process.execPath;
  const { stdout } = await promisify(execFile)('ldd', [node]);
  // `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)` and `/lib64/ld-linux-x86-64.so.2 (0x…)`.
  const libraries = [...stdout.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((match) => match[1]!);
  const staging = mkdtempSync(join(tmpdir(), 'horde-job-image-'));
  try {
    mkdirSync(join(staging, 'app'));
    mkdirSync(join(staging, 'tmp'));
    copyFileSync(crackScript, join(staging, 'app', 'crack.mjs'));
    // GNU tar: -h stores what the library symlinks point to; the second -C adds /app and /tmp.
    const tar = spawn(
      'tar',
      ['-c', '-h', '-f', '-', '-C', '/', ...[node, ...libraries].map((path) => path.slice(1)), '-C', staging, 'app', 'tmp'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let tarErrors = '';
    tar.stderr.on('data', (chunk: Buffer) => (tarErrors += chunk.toString()));
    const tarExit = new Promise<void>((resolve, reject) => {
      tar.once('error', reject);
      tar.once('exit', (code) =>
        code === 0 ? resolve() : reject(new DevnetPreflightError(`tar exited with ${code}: ${tarErrors.trim()}`)),
      );
    });
    const [repo, tag] = splitImage(image);
    const stream = (await docker.importImage(tar.stdout, {
      repo,
      tag,
      changes: [`ENTRYPOINT ${JSON.stringify([node, '/app/crack.mjs'])}`, 'ENV HORDE_IMAGE_SOURCE=host-node', 'USER 1000'],
    })) as NodeJS.ReadableStream;
    await withTimeout(Promise.all([followProgress(docker, stream), tarExit]), 300_000, `importing ${image}`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  await docker.getImage(image).inspect();
}

/** `horde/job-hash-crack:1` → [`horde/job-hash-crack`, `1`]. */
function splitImage(image: string): [string, string] {
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? [image.slice(0, colon), image.slice(colon + 1)] : [image, 'latest'];
}
