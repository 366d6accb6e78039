/**
 * One `horde <role> --config F` process (built CLI, core/dist) for the fault tests that kill,
 * restart and watch real processes: its config file and directory, its output, kill -9 and a clean
 * stop. CliMiner and CliValidator add how each role says it is up.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HORDE = fileURLToPath(new URL('../../core/bin/horde.js', import.meta.url));

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Runs `horde ARGS --config CONFIG` to the end; its stdout, or an error with its stderr. */
export function hordeCommand(configPath: string, cwd: string, ...args: string[]): string {
  const result = spawnSync(process.execPath, [HORDE, ...args, '--config', configPath], { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`horde ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

export abstract class CliProcess {
  process: ChildProcess | null = null;
  /** Everything the process wrote, over all its launches. */
  output = '';

  protected constructor(
    readonly dir: string,
    readonly configName: string,
    private readonly role: 'miner' | 'validator',
  ) {}

  get configPath(): string {
    return join(this.dir, this.configName);
  }

  horde(...args: string[]): string {
    return hordeCommand(this.configPath, this.dir, ...args);
  }

  /** Starts (or restarts) the process and waits until `ready` says it is up. */
  protected async spawnUntil(ready: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const child = spawn(process.execPath, [HORDE, this.role, '--config', this.configPath], {
      cwd: this.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process = child;
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await ready()) return;
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the ${this.role} did not come up:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The last `count` log lines, one short line each (time, level, message, cycle, error), for a failure message. */
  recentLog(count = 40): string {
    return logLines(this.output)
      .slice(-count)
      .map((line) => {
        const err = line.err as { message?: string } | undefined;
        const extra = [line.cycle === undefined ? '' : `cycle=${String(line.cycle)}`, err?.message ? `err=${err.message}` : '']
          .filter(Boolean)
          .join(' ');
        return `  ${new Date(Number(line.time)).toISOString()} ${String(line.level)} ${String(line.msg)}${extra ? ` ${extra}` : ''}`;
      })
      .join('\n');
  }

  get pid(): number {
    return this.process!.pid!;
  }

  /** kill -9, as a crash or the OOM killer does: nothing of the process's own runs. */
  async kill9(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  }

  /** Stops the process; `removeDir` also deletes its directory (false when another process shares it). */
  async close(removeDir = true): Promise<void> {
    await this.stop();
    if (removeDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The JSON log lines a process wrote (pino, `pretty: false`); other lines are skipped. */
export function logLines(output: string): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut by the kill
    }
  }
  return lines;
}
