import { execFile } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import semver from 'semver';
import { StartupCheckFailed, type CheckContext, type CheckFacts, type StartupCheck } from './types.js';

/** CVE-2025-23359 (a TOCTOU in the toolkit's container setup, a container escape) is fixed in 1.17.4. */
export const MIN_NVIDIA_TOOLKIT_VERSION = '1.17.4';

/**
 * The toolkit's programs, each with `--version`. They come in one package set, so each one found
 * must be new enough:
 *   nvidia-ctk --version                NVIDIA Container Toolkit CLI version 1.17.4 / commit: …
 *   nvidia-container-toolkit --version  NVIDIA Container Runtime Hook version 1.17.4 / commit: …
 *   nvidia-container-cli --version      cli-version: 1.17.4 / lib-version: 1.17.4 / build date: …
 */
export const NVIDIA_TOOLKIT_PROGRAMS = ['nvidia-ctk', 'nvidia-container-toolkit', 'nvidia-container-cli'] as const;

/** `version 1.17.4`, `cli-version: 1.17.4`, `lib-version: 1.17.0-rc.2`: every version a `--version` output names. */
export function parseToolkitVersions(output: string): string[] {
  const versions: string[] = [];
  for (const match of output.matchAll(/\bversion:?\s+v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)/gi)) {
    const version = semver.valid(match[1]!);
    if (version) versions.push(version);
  }
  return versions;
}

/** True when `version` has the fix. A pre-release of 1.17.4 (1.17.4-rc.1) does not count. */
export function toolkitVersionIsSafe(version: string): boolean {
  return semver.gte(version, MIN_NVIDIA_TOOLKIT_VERSION);
}

interface ProgramAnswer {
  readonly program: string;
  readonly output: string | null;
  /** Why there is no usable output: `missing` (not on PATH) or the error. */
  readonly error?: string;
  readonly missing?: boolean;
}

function askVersion(program: string, env: NodeJS.ProcessEnv, timeoutMs: number, signal: AbortSignal): Promise<ProgramAnswer> {
  return new Promise((resolve) => {
    execFile(program, ['--version'], { env, timeout: timeoutMs, signal, maxBuffer: 64 * 1024 }, (error, stdout, stderr) => {
      const output = `${stdout}\n${stderr}`;
      if (!error) return resolve({ program, output });
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return resolve({ program, output: null, missing: true });
      resolve({
        program,
        output: null,
        error: `${error.message.split('\n')[0]}${output.trim() ? `: ${output.trim().slice(0, 200)}` : ''}`,
      });
    });
  });
}

export interface NvidiaToolkitCheckOptions {
  /** Environment for the programs (PATH is where they are looked up); default this process's. */
  readonly env?: NodeJS.ProcessEnv;
  /** Per program; default 5 s. */
  readonly timeoutMs?: number;
}

/**
 * `nvidia_toolkit` (GPU executor classes, and any job with preset `nvidia_all`): the NVIDIA
 * Container Toolkit on this host is at least 1.17.4. The toolkit runs on the Docker engine's host,
 * so this check is meaningful where the executor runs beside its engine (the usual setup).
 */
export class NvidiaToolkitCheck implements StartupCheck {
  readonly name = 'nvidia_toolkit' as const;
  readonly proves = `the NVIDIA Container Toolkit that gives job containers their GPUs is >= ${MIN_NVIDIA_TOOLKIT_VERSION} (CVE-2025-23359 fixed)`;

  constructor(private readonly options: NvidiaToolkitCheckOptions = {}) {}

  async run(context: CheckContext): Promise<CheckFacts> {
    const env = this.options.env ?? process.env;
    const timeoutMs = Math.max(1, Math.min(this.options.timeoutMs ?? 5_000, context.timeLeftMs()));
    const answers = await Promise.all(NVIDIA_TOOLKIT_PROGRAMS.map((program) => askVersion(program, env, timeoutMs, context.signal)));
    const found = answers.filter((answer) => !answer.missing);
    if (found.length === 0) {
      throw new StartupCheckFailed(
        this.name,
        `the NVIDIA Container Toolkit is not installed (none of ${NVIDIA_TOOLKIT_PROGRAMS.join(', ')} is on PATH); GPU jobs need it at >= ${MIN_NVIDIA_TOOLKIT_VERSION}`,
      );
    }
    const facts: CheckFacts = {};
    const problems: string[] = [];
    for (const answer of found) {
      if (answer.output === null) {
        problems.push(`${answer.program} --version failed (${answer.error})`);
        continue;
      }
      const versions = parseToolkitVersions(answer.output);
      if (versions.length === 0) {
        problems.push(`${answer.program} --version names no version: ${JSON.stringify(answer.output.trim().slice(0, 200))}`);
        continue;
      }
      facts[answer.program] = versions.join(',');
      for (const version of versions) {
        if (!toolkitVersionIsSafe(version))
          problems.push(`${answer.program} is version ${version}, older than ${MIN_NVIDIA_TOOLKIT_VERSION} (CVE-2025-23359)`);
      }
    }
    if (problems.length > 0) throw new StartupCheckFailed(this.name, problems.join('; '), facts);
    return facts;
  }
}

/**
 * Which toolkit programs the check would run, as files: for each, the first executable of that
 * name on PATH and what identifies its content (device, inode, size, change times), or null when
 * there is none. Any upgrade, downgrade or PATH change gives another identity: what a pass kept
 * per boot (`boot-cache.ts`) is keyed by. (The library `nvidia-container-cli` loads is not a file
 * of its own here: a pass is kept a day at most, and failures never.)
 */
export async function toolkitIdentity(env: NodeJS.ProcessEnv = process.env): Promise<Record<string, unknown>> {
  const dirs = (env['PATH'] ?? '').split(delimiter).filter((dir) => isAbsolute(dir));
  const identity: Record<string, unknown> = {};
  for (const program of NVIDIA_TOOLKIT_PROGRAMS) {
    identity[program] = null;
    for (const dir of dirs) {
      const path = join(dir, program);
      const found = await access(path, fsConstants.X_OK).then(
        () => stat(path),
        () => null,
      );
      if (!found?.isFile()) continue;
      identity[program] = { path, dev: found.dev, ino: found.ino, size: found.size, mtimeMs: found.mtimeMs, ctimeMs: found.ctimeMs };
      break;
    }
  }
  return identity;
}
