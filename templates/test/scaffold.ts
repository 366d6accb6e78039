/**
 * Helpers for the scaffolder's tests: run the real CLI (`node templates/index.mjs`) as a user
 * would, in temporary directories.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../index.mjs', import.meta.url));
export const KIND_IDS = ['executor-manager', 'scoring-rule', 'job-generator', 'hardware-class', 'dancing-strategy'] as const;
export type KindId = (typeof KIND_IDS)[number];

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliRunOptions {
  readonly cwd: string;
  /** Extra environment; the run starts from a clean one (no npm_config_user_agent from `npm test`). */
  readonly env?: Record<string, string>;
  /** Written to stdin, then stdin is closed. */
  readonly input?: string;
}

export function runCli(args: readonly string[], options: CliRunOptions): Promise<CliRun> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? options.cwd, ...options.env };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** A fresh directory under the system's temp dir (real path: macOS's /var is a link). */
export function tempDir(prefix: string): string {
  return realpathSync(mkdtempSync(join(tmpdir(), `horde-scaffold-${prefix}-`)));
}

/** Every file under `dir`, relative, sorted. */
export function listFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current)) {
      const path = join(current, entry);
      if (statSync(path).isDirectory()) walk(path);
      else files.push(relative(dir, path));
    }
  };
  walk(dir);
  return files.sort();
}

/** Scaffolds one package per kind into `dir` (`<dir>/gen-<kind>`), without install. */
export async function scaffoldAll(dir: string, extraArgs: readonly string[] = []): Promise<Record<KindId, string>> {
  const out = {} as Record<KindId, string>;
  for (const kind of KIND_IDS) {
    const run = await runCli(
      [`gen-${kind}`, '--kind', kind, '--name', `horde-plugin-gen-${kind}`, '--no-interactive', '--skip-install', ...extraArgs],
      { cwd: dir },
    );
    if (run.code !== 0) throw new Error(`scaffolding ${kind} failed (${run.code}): ${run.stderr}`);
    out[kind] = join(dir, `gen-${kind}`);
  }
  return out;
}
