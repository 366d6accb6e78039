/**
 * A small subnet of real processes for the fault tests that kill or starve a validator: a LocalChain
 * in its own SQLite file (`chain.local.store`), one `horde miner` with `always_on.test` executors
 * (process runner, the hash-crack job script) and one `horde validator` (hash-crack jobs, classic
 * scoring, commit-reveal weights), each with a store of its own: SQLite under its data directory,
 * or a PostgreSQL URL.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireBuiltCli } from '../support/miner-harness.js';
import { CliMiner } from './cli-miner.js';
import { CliProcess, hordeCommand, logLines } from './cli-process.js';

export const SUBNET_NETUID = 12;
export const SUBNET_CLASS = 'always_on.test';
const CRACK = fileURLToPath(new URL('../../plugins/job-hash-crack/job/crack.mjs', import.meta.url));
const HASH_IMAGE = 'horde/job-hash-crack:1';

export interface SubnetChain {
  readonly blockTimeMs: number;
  /** Epoch length minus one. */
  readonly tempo: number;
  readonly revealPeriodEpochs: number;
  readonly cycleLengthBlocks: number;
}

export interface SubnetOptions {
  readonly chain: SubnetChain;
  readonly executors: number;
  /** The validator's `store:` section as a YAML flow mapping; default SQLite under its data dir. */
  readonly validatorStore?: string;
  /** Extra keys of the `validator:` section, as YAML flow-mapping entries. */
  readonly validator?: readonly string[];
}

/** `horde validator --config F` with the subnet's config; up once it logged "validator started". */
export class CliValidator extends CliProcess {
  constructor(dir: string) {
    super(dir, 'validator.config.yaml', 'validator');
  }

  /** Starts (or restarts) the validator and waits for its "validator started" line. */
  async launch(): Promise<void> {
    const before = this.output.length;
    await this.spawnUntil(() => this.output.slice(before).includes('"validator started"'));
  }

  /** This process's log lines (all launches) with `msg`. */
  logged(msg: string): Array<Record<string, unknown>> {
    return logLines(this.output).filter((line) => line.msg === msg);
  }
}

export class CliSubnet {
  private constructor(
    readonly dir: string,
    readonly miner: CliMiner,
    readonly validator: CliValidator,
  ) {}

  /** The chain's SQLite file (the test opens it with LocalChain to read commits and weights). */
  get chainFile(): string {
    return join(this.dir, 'chain.sqlite');
  }

  /** The miner's SQLite store. */
  get minerStoreFile(): string {
    return join(this.dir, 'miner-data', 'horde.sqlite');
  }

  static async start(options: SubnetOptions): Promise<CliSubnet> {
    requireBuiltCli();
    const dir = mkdtempSync(join(tmpdir(), 'horde-fault-subnet-'));
    const { chain } = options;
    const chainSection =
      `{ network: local, netuid: ${SUBNET_NETUID}, local: { blockTimeMs: ${chain.blockTimeMs}, tempo: ${chain.tempo}, weightsRateLimit: 2, ` +
      `commitRevealEnabled: true, revealPeriodEpochs: ${chain.revealPeriodEpochs}, servingRateLimit: 0, store: { client: sqlite, filename: chain.sqlite } } }`;
    const validator = new CliValidator(dir);
    writeFileSync(
      validator.configPath,
      [
        "hotkey: '//Bob'",
        'dataDir: validator-data',
        ...(options.validatorStore ? [`store: ${options.validatorStore}`] : []),
        `chain: ${chainSection}`,
        `validator: { cycleLengthBlocks: ${chain.cycleLengthBlocks}, batchOffsetBlocks: 1, manifestTimeoutSeconds: 5, mainHotkeyTimeoutSeconds: 3, ` +
          `jobResponseSlackSeconds: 5, weights: { retryDelaySeconds: 1, revealEveryBlocks: 2 }${(options.validator ?? []).map((entry) => `, ${entry}`).join('')} }`,
        'plugins:',
        "  - '@horde/plugin-hardware-classes'",
        "  - '@horde/plugin-job-hash-crack'",
        `  - { name: '@horde/plugin-scoring-classic', config: { classWeights: { ${SUBNET_CLASS}: 1 } } }`,
        'log: { level: info, pretty: false }',
      ].join('\n'),
    );
    // The chain, with //Alice the miner and //Bob the validator (stake, permit).
    hordeCommand(validator.configPath, dir, 'chain', 'init');
    hordeCommand(validator.configPath, dir, 'chain', 'register', '--hotkey', '//Alice');
    hordeCommand(validator.configPath, dir, 'chain', 'register', '--hotkey', '//Bob', '--stake', '5000', '--validator-permit');
    const miner = await CliMiner.start({
      dir,
      chain: chainSection,
      miner: ['announce: { ip: 127.0.0.1 }', `cycleLengthBlocks: ${chain.cycleLengthBlocks}`, 'executorStartupTimeLimitSeconds: 10'],
      executor: `{ runner: process, machineSpecs: false, processImages: { '${HASH_IMAGE}': ['${process.execPath}', '${CRACK}'] } }`,
      plugins: `['@horde/plugin-hardware-classes', { name: '@horde/executor-manager-local', config: { executorClass: ${SUBNET_CLASS}, executors: ${options.executors}, killGraceMs: 2000 } }]`,
      extra: ['dataDir: miner-data'],
    });
    const subnet = new CliSubnet(dir, miner, validator);
    try {
      await validator.launch();
    } catch (error) {
      await subnet.close();
      throw error;
    }
    return subnet;
  }

  /** The validator's and the miner's last log lines, for a failure message. */
  recentLogs(): string {
    return `the validator's last log lines:\n${this.validator.recentLog()}\nthe miner's:\n${this.miner.recentLog(20)}`;
  }

  async close(): Promise<void> {
    await this.validator.close(false);
    await this.miner.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
