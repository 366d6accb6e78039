/**
 * A miner as operators run it, for the fault tests that need its process to themselves: measure
 * its memory, kill -9 it, restart it. By default `horde chain init` / `register` on a local chain
 * in its own store, then `horde miner --config F` (built CLI, core/dist) with the default local
 * executor manager; `chain` / `plugins` / `dir` put it on a chain and in a folder it shares.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBuiltCli } from '../support/miner-harness.js';
import { CliProcess, freePort } from './cli-process.js';

export { freePort } from './cli-process.js';

/** The default local manager's class (ComputeHorde's DEFAULT_EXECUTOR_CLASS). */
export const CLI_MINER_CLASS = 'spin_up-4min.gpu-24gb';

export interface CliMinerOptions {
  /** Extra keys of the `miner:` section, as YAML flow-mapping entries (`preAuth: { bytesTotal: 1 }`). */
  readonly miner?: readonly string[];
  /** The whole `executor:` section as a YAML flow mapping. */
  readonly executor?: string;
  /** Extra top-level YAML lines (a `store:` section). */
  readonly extra?: readonly string[];
  /** The `hotkey:` value; default //Alice. */
  readonly hotkey?: string;
  /**
   * The whole `chain:` section as a YAML flow mapping, for a chain set up by the caller (nothing is
   * initialised or registered then). Default: a LocalChain in the miner's store, set up here with
   * //Alice the miner and //Bob a validator with stake.
   */
  readonly chain?: string;
  /** The `plugins:` value as YAML; default `[]` (the default local executor manager). */
  readonly plugins?: string;
  /** A folder to write the config into (shared with other processes); default a fresh one. */
  readonly dir?: string;
}

export class CliMiner extends CliProcess {
  private constructor(
    dir: string,
    readonly port: number,
    private readonly ownDir: boolean,
  ) {
    super(dir, 'miner.config.yaml', 'miner');
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Writes the config, sets up the local chain unless `chain` is given, and starts the miner. */
  static async start(options: CliMinerOptions = {}): Promise<CliMiner> {
    requireBuiltCli();
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'horde-fault-miner-'));
    const miner = new CliMiner(dir, await freePort(), options.dir === undefined);
    writeFileSync(
      miner.configPath,
      [
        `hotkey: '${options.hotkey ?? '//Alice'}'`,
        `chain: ${options.chain ?? '{ network: local, netuid: 12, local: { blockTimeMs: 1000 } }'}`,
        `miner: { host: 127.0.0.1, port: ${miner.port}, manifestCommitIntervalSeconds: 0${(options.miner ?? []).map((entry) => `, ${entry}`).join('')} }`,
        `executor: ${options.executor ?? "{ runner: process, machineSpecs: false, processImages: { 'example/job:1': ['env'] } }"}`,
        `plugins: ${options.plugins ?? '[]'}`,
        'log: { level: info, pretty: false }',
        ...(options.extra ?? []),
      ].join('\n'),
    );
    if (options.chain === undefined) {
      miner.horde('chain', 'init');
      miner.horde('chain', 'register', '--hotkey', '//Alice');
      miner.horde('chain', 'register', '--hotkey', '//Bob', '--stake', '5000', '--validator-permit');
    }
    await miner.launch();
    return miner;
  }

  /** Starts (or restarts) the miner process and waits for `/healthz`. */
  async launch(): Promise<void> {
    await this.spawnUntil(() =>
      fetch(`${this.url}/healthz`).then(
        (r) => r.ok,
        () => false,
      ),
    );
  }

  /** Resident memory of the miner process now, in bytes (`VmRSS`). */
  rssBytes(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
    return kb * 1024;
  }

  override async close(): Promise<void> {
    await super.close(this.ownDir);
  }
}
