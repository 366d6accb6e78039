/**
 * Running `horde devnet` from tests: the built CLI as a child process, its JSON summary, and a
 * look at which of its processes are still alive.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../core/bin/horde.js', import.meta.url));
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** An 8 s cycle (80 blocks of 100 ms): the shortest the devnet accepts, to keep tests short. */
export const SHORT_DEVNET = ['--cycle-blocks', '80', '--block-time-ms', '100', '--no-progress'];

/** Temp dirs for a test file; `cleanup()` in afterAll removes them. */
export function tempDirs() {
  const dirs: string[] = [];
  return {
    make(prefix: string): string {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    },
    cleanup(): void {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface HordeRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function horde(args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<HordeRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: ROOT, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * Processes that belong to a devnet: its data dir in their command line (every `horde` process
 * reads its config from there) or in their environment (executor agents inherit
 * `HORDE_DEVNET_DATA_DIR`). Read from /proc, like `pgrep -f` plus the environment.
 */
export function devnetProcesses(dataDir: string): Array<{ pid: number; cmdline: string }> {
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      // Zombies have an empty command line: they are gone already.
      if (cmdline.trim() === '') continue;
      if (cmdline.includes(dataDir) || `\0${environ}\0`.includes(`\0HORDE_DEVNET_DATA_DIR=${dataDir}\0`))
        found.push({ pid, cmdline: cmdline.trim() });
    } catch {
      // Exited meanwhile, or not ours to read.
    }
  }
  return found;
}

/** Resolves once `pattern` shows up in the child's stdout. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} in the devnet output within ${timeoutMs} ms:\n${seen}`)), timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

export function exitOf(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

/** The parts of `--json` the tests read. */
export interface DevnetSummaryJson {
  cycles: number;
  miners: Array<{
    name: string;
    hotkey: string;
    uid: number | null;
    behaviour: 'honest' | 'cheater' | 'dancer' | 'farmer';
    jobs: { sent: number; completed: number; correct: number; wrong: number; failed: number; excused: number };
    points: Record<string, number>;
    weight: number;
    chainWeight: number;
    /** Weight in each counted cycle, in order. */
    cycleWeights: number[];
    log: string;
  }>;
  chainWeights: Record<string, number>;
  logs: Record<string, string>;
  dataDir: string;
  settings: Record<string, unknown>;
}

export function readSummary(file: string): DevnetSummaryJson {
  return JSON.parse(readFileSync(file, 'utf8')) as DevnetSummaryJson;
}
