/**
 * A shell started ahead of the job, waiting on its stdin for the job's command line, which it then
 * `exec`s: the job's process is this one (its pid, process group and pipes). Starting a process
 * from the agent forks a node process of ~80 MB, then execs: spawn → close of `true` took 1.9-2.1
 * ms; handing the same command to a waiting shell, 1.2-1.3 ms (measured side by side, one node
 * process with the agent's heap size). The fork moves to the agent's start, where it runs beside
 * the agent's connect.
 *
 * The job gets what `spawn(program, args, { cwd, env, detached: true })` gives it:
 *  - argv as given: the shell looks the program up on the job's `PATH`, as spawn does, and passes
 *    the name on as argv[0]; a program it cannot find or run is exit 127 or 126, as spawn's
 *    ENOENT and EACCES are reported (`ProcessJobRunner`). Rarer exec errors differ: an argv past
 *    the kernel's limit (E2BIG) is the shell's exit 2, not the runner's error, and a cwd it may
 *    not enter is 127 (the runner's own scratch directory, in practice always there);
 *  - exactly `env`: the shell is started with an empty environment and unsets the `PWD` and
 *    `OLDPWD` it sets itself; the job's variables are the `exec`'s assignments;
 *  - stdin from /dev/null, stdout and stderr on the pipes the agent reads, its own process group
 *    (started detached, so one kill of the group still reaches everything the job starts).
 * Every string goes single-quoted (a quote inside as '\''), so nothing in a job's command, env or
 * directory is read as shell syntax. A variable name that is not a shell name, or a NUL byte
 * (spawn refuses those), cannot go this way: `take` says no and the job is spawned.
 * Until taken, neither the shell nor its pipes keep the agent's event loop alive, and the shell
 * exits when its stdin closes: when the agent exits or dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { Logger } from '../../contracts/index.js';

/**
 * dash, by path: the environment rules above are dash's (it exports only the PWD and OLDPWD it
 * sets). bash, /bin/sh on Fedora, Arch or macOS, adds `_` and `SHLVL`, keeps PPID and UID
 * read-only (a job env naming one would end the shell before the exec) and parses `exec`'s
 * options. Where there is no dash, jobs are spawned.
 */
const SHELL = '/bin/dash';
const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The shell and its pipes, which each hold the event loop while referenced. */
function handles(child: ChildProcess): Array<{ ref(): void; unref(): void }> {
  return [child, child.stdin, child.stdout, child.stderr].filter((handle) => handle !== null) as unknown as Array<{
    ref(): void;
    unref(): void;
  }>;
}

/**
 * Whether the shell has ended, including the moment after it died and before node reaped it (its
 * exit event is still to come: a zombie, seen in /proc on Linux). A shell killed while it waited
 * must not take the job: the job would end as its death, exit 137.
 */
function ended(child: ChildProcess): boolean {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  try {
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'latin1');
    return stat.charAt(stat.lastIndexOf(')') + 2) === 'Z';
  } catch {
    return false; // no /proc (not Linux): the exit event is all there is to go by
  }
}

/** `value` as one single-quoted shell word. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The script the waiting shell runs: enter `cwd`, then become the program (null: it cannot go this way). */
export function standbyScript(program: string, args: readonly string[], cwd: string, env: Readonly<Record<string, string>>): string | null {
  const names = Object.keys(env);
  if (!names.every((name) => SHELL_NAME.test(name))) return null;
  // The operator's program, never a job's word; a leading dash would be read as an option of exec.
  if (program.startsWith('-')) return null;
  const words = [program, ...args, cwd, ...Object.values(env)];
  if (words.some((word) => word.includes('\0'))) return null;
  const assignments = names.map((name) => `${name}=${shellQuote(env[name]!)}`).join(' ');
  return (
    `cd -- ${shellQuote(cwd)} || exit 127\n` +
    'unset PWD OLDPWD\n' +
    `${assignments} exec ${[program, ...args].map(shellQuote).join(' ')} </dev/null\n`
  );
}

export class StandbyShell {
  private child: ChildProcess | null;

  private constructor(child: ChildProcess, logger: Logger) {
    this.child = child;
    child.on('error', (error) => {
      logger.debug({ err: error }, 'the standby shell could not start; the job will be spawned');
      this.child = null;
    });
    // A shell gone before its script arrived: the write fails (EPIPE), and its exit is the job's.
    child.stdin?.on('error', (error) => logger.debug({ err: error }, 'the standby shell closed its input'));
    for (const handle of handles(child)) handle.unref();
  }

  /** Starts a waiting shell; null where none could be started (the job is then spawned). */
  static start(logger: Logger): StandbyShell | null {
    if (!existsSync(SHELL)) return null;
    try {
      return new StandbyShell(spawn(SHELL, ['-s'], { env: {}, detached: true, stdio: ['pipe', 'pipe', 'pipe'] }), logger);
    } catch (error) {
      logger.debug({ err: error }, 'the standby shell could not start; the job will be spawned');
      return null;
    }
  }

  /**
   * The waiting shell, now running the program; null when it cannot (it exited, or the command
   * cannot go through a shell: see `standbyScript`), and the caller spawns the job. Once only.
   */
  take(program: string, args: readonly string[], cwd: string, env: Readonly<Record<string, string>>): ChildProcess | null {
    const child = this.child;
    this.child = null;
    if (child === null) return null;
    const script = standbyScript(program, args, cwd, env);
    if (script === null || !child.stdin?.writable || ended(child)) {
      child.stdin?.destroy();
      return null;
    }
    for (const handle of handles(child)) handle.ref();
    child.stdin.end(script);
    return child;
  }

  /** The waiting shell's pid, until it is taken (diagnostics, tests). */
  get pid(): number | undefined {
    return this.child?.pid;
  }
}
