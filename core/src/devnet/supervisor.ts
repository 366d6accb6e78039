import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DevnetRunError } from './errors.js';

export interface SupervisedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal) once the process has exited. */
  readonly exited: Promise<number | null>;
}

export interface SpawnOptions {
  readonly name: string;
  readonly argv: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** stdout and stderr of the process are appended here. */
  readonly logFile: string;
  /** Open an IPC channel so the child can `process.send` progress events. */
  readonly ipc?: boolean;
}

/**
 * Starts the devnet's processes and makes sure none outlives it. Each child leads its own process
 * group, so stopping it also stops whatever it started (a miner's executor agents and their job
 * processes): first SIGTERM to the group for a clean shutdown, then SIGKILL after a grace period.
 */
export class ProcessSupervisor {
  private readonly processes: SupervisedProcess[] = [];

  spawn(options: SpawnOptions): SupervisedProcess {
    mkdirSync(dirname(options.logFile), { recursive: true });
    const log = createWriteStream(options.logFile, { flags: 'a' });
    const [command, ...args] = options.argv;
    if (command === undefined) throw new DevnetRunError(`no command for ${options.name}`);
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => {
        log.end();
        resolve(code);
      });
      child.once('error', (error) => {
        log.write(`failed to start: ${error.message}\n`);
        log.end();
        resolve(null);
      });
    });
    const supervised = { name: options.name, logFile: options.logFile, child, exited };
    this.processes.push(supervised);
    return supervised;
  }

  get running(): readonly SupervisedProcess[] {
    return this.processes.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
  }

  /** Stops every process (newest first), waiting up to `graceMs` before killing what is left. */
  async stopAll(graceMs = 5_000): Promise<void> {
    const alive = [...this.running].reverse();
    for (const p of alive) signalGroup(p.child, 'SIGTERM');
    const deadline = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
    await Promise.race([Promise.all(alive.map((p) => p.exited)), deadline]);
    for (const p of this.processes) signalGroup(p.child, 'SIGKILL');
    await Promise.all(alive.map((p) => p.exited));
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is gone already: nothing left to stop.
  }
}

/**
 * Linux only (reads /proc; elsewhere it finds nothing): SIGKILLs every process, and its process
 * group, whose environment carries `name=value`. The devnet marks its children this way and the
 * miners' executor agents inherit the mark; this catches what a process killed outright (SIGKILL)
 * left behind in process groups of its own. Returns the pids it killed.
 */
export function killMarkedProcesses(name: string, value: string): number[] {
  if (!existsSync('/proc/self/environ')) return [];
  const mark = `\0${name}=${value}\0`;
  const killed: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
    } catch {
      continue; // gone, or not ours
    }
    if (!`\0${environ}\0`.includes(mark)) continue;
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // not a group leader, or gone already
      }
    }
    killed.push(pid);
  }
  return killed;
}
