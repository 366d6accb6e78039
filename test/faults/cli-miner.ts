/**
 * A miner as operators run it, for the fault tests that need its process to themselves: measure
 * its memory, kill -9 it, restart it. `horde chain init` / `register` on the local chain, then
 * `horde miner --config F` (built CLI, core/dist) with the default local executor manager.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireBuiltCli } from '../support/miner-harness.js';

const HORDE = fileURLToPath(new URL('../../core/bin/horde.js', import.meta.url));
/** The default local manager's class (ComputeHorde's DEFAULT_EXECUTOR_CLASS). */
export const CLI_MINER_CLASS = 'spin_up-4min.gpu-24gb';

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface CliMinerOptions {
  /** Extra keys of the `miner:` section, as YAML flow-mapping entries (`preAuth: { bytesTotal: 1 }`). */
  readonly miner?: readonly string[];
  /** The whole `executor:` section as a YAML flow mapping. */
  readonly executor?: string;
  /** Extra top-level YAML lines (a `store:` section, `plugins:`). */
  readonly extra?: readonly string[];
}

export class CliMiner {
  process: ChildProcess | null = null;
  output = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get configPath(): string {
    return join(this.dir, 'horde.config.yaml');
  }

  /** Writes the config, sets up the local chain (//Alice the miner, //Bob a validator with stake) and starts the miner. */
  static async start(options: CliMinerOptions = {}): Promise<CliMiner> {
    requireBuiltCli();
    const miner = new CliMiner(mkdtempSync(join(tmpdir(), 'horde-fault-miner-')), await freePort());
    writeFileSync(
      miner.configPath,
      [
        'hotkey: //Alice',
        'chain: { network: local, netuid: 12, local: { blockTimeMs: 1000 } }',
        `miner: { host: 127.0.0.1, port: ${miner.port}, manifestCommitIntervalSeconds: 0${(options.miner ?? []).map((entry) => `, ${entry}`).join('')} }`,
        `executor: ${options.executor ?? "{ runner: process, machineSpecs: false, processImages: { 'example/job:1': ['env'] } }"}`,
        'plugins: []',
        'log: { level: info, pretty: false }',
        ...(options.extra ?? []),
      ].join('\n'),
    );
    miner.horde('chain', 'init');
    miner.horde('chain', 'register', '--hotkey', '//Alice');
    miner.horde('chain', 'register', '--hotkey', '//Bob', '--stake', '5000', '--validator-permit');
    await miner.launch();
    return miner;
  }

  horde(...args: string[]): string {
    const result = spawnSync(process.execPath, [HORDE, ...args, '--config', this.configPath], { cwd: this.dir, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`horde ${args.join(' ')} failed: ${result.stderr}`);
    return result.stdout;
  }

  /** Starts (or restarts) the miner process and waits for `/healthz`. */
  async launch(): Promise<void> {
    const child = spawn(process.execPath, [HORDE, 'miner', '--config', this.configPath], { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = child;
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ok = await fetch(`${this.url}/healthz`).then((r) => r.ok, () => false);
      if (ok) return;
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the miner did not come up:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  get pid(): number {
    return this.process!.pid!;
  }

  /** Resident memory of the miner process now, in bytes (`VmRSS`). */
  rssBytes(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
    return kb * 1024;
  }

  /** kill -9, as a crash or the OOM killer does: nothing of the miner's own runs. */
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

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
