import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig, type HordeConfigInput } from '../config/index.js';
import type { DevKey, DevnetKeys, MinerKeys } from './keys.js';
import type { DevnetOptions } from './options.js';

/** The farmers' dancing plugin (farming-plugin.ts), loaded by path from the built devnet. */
const FARMING_PLUGIN = fileURLToPath(new URL('./farming-plugin.js', import.meta.url));

/** The subnet the devnet creates (ComputeHorde's mainnet netuid, so configs look familiar). */
export const DEVNET_NETUID = 12;
/** The executor class of every devnet executor: test machines, proven by the hash-crack job. */
export const DEVNET_EXECUTOR_CLASS = 'always_on.test';

/** The chain's settings, derived from the cycle length so a default run takes well under two minutes. */
export interface DevnetChainSettings {
  readonly netuid: number;
  readonly blockTimeMs: number;
  readonly cycleBlocks: number;
  /** Half a cycle minus one: an epoch is half a cycle, so a commit is revealed within half a cycle. */
  readonly tempo: number;
  /** Below the cycle length: the validator submits once per cycle. */
  readonly weightsRateLimit: number;
  readonly commitRevealEnabled: true;
  readonly revealPeriodEpochs: 1;
  /** `CommitRevealWeightsVersion`: 3 (hash commits) or 4 (timelocked commits, `--commit-reveal timelock`). */
  readonly commitRevealVersion: 3 | 4;
}

export function chainSettings(
  options: Pick<DevnetOptions, 'blockTimeMs' | 'cycleBlocks'> & Partial<Pick<DevnetOptions, 'commitReveal'>>,
): DevnetChainSettings {
  return {
    netuid: DEVNET_NETUID,
    blockTimeMs: options.blockTimeMs,
    cycleBlocks: options.cycleBlocks,
    tempo: Math.max(1, Math.floor(options.cycleBlocks / 2) - 1),
    weightsRateLimit: Math.floor(options.cycleBlocks / 2),
    commitRevealEnabled: true,
    revealPeriodEpochs: 1,
    commitRevealVersion: options.commitReveal === 'timelock' ? 4 : 3,
  };
}

/** A store section as a config file writes it. */
export type StoreInput = { client: 'sqlite'; filename: string } | { client: 'postgres'; url: string };

/** Where one process keeps its things. */
export interface ProcessLayout {
  /** `validator`, `trusted-miner`, `miner-1`, … */
  readonly name: string;
  readonly configFile: string;
  readonly logFile: string;
  readonly dataDir: string;
  readonly store: StoreInput;
}

/** The process's store: SQLite under its own data dir, or its own PostgreSQL database. */
export type StoreFor = (name: string, processDataDir: string) => StoreInput;

export function sqliteStores(): StoreFor {
  return (_name, processDataDir) => ({ client: 'sqlite', filename: join(processDataDir, 'horde.sqlite') });
}

export function processLayout(dataDir: string, name: string, storeFor: StoreFor): ProcessLayout {
  const processDataDir = join(dataDir, name);
  return {
    name,
    configFile: join(dataDir, 'config', `${name}.json`),
    logFile: join(dataDir, 'logs', `${name}.log`),
    dataDir: processDataDir,
    store: storeFor(name, processDataDir),
  };
}

/** The job programs a miner's process runner runs instead of the hash-crack image. */
export interface JobScripts {
  /** The image the hash-crack generator asks for (`horde/job-hash-crack:1`). */
  readonly image: string;
  readonly crack: string;
  readonly cheat: string;
}

export interface ConfigContext {
  readonly options: DevnetOptions;
  readonly chain: DevnetChainSettings;
  readonly chainStore: StoreInput;
  readonly scripts: JobScripts;
  /** The `--miner-plugin` that provides the miners' ExecutorManager (instead of the local one), if any. */
  readonly minerExecutorManager?: string | null;
  /** Every hardware class the validator knows; each gets class weight 1 (default: the test class only). */
  readonly validatorClasses?: readonly string[];
}

function chainSection(ctx: ConfigContext): HordeConfigInput['chain'] {
  const { chain } = ctx;
  return {
    network: 'local',
    netuid: chain.netuid,
    local: {
      blockTimeMs: chain.blockTimeMs,
      tempo: chain.tempo,
      weightsRateLimit: chain.weightsRateLimit,
      commitRevealEnabled: chain.commitRevealEnabled,
      revealPeriodEpochs: chain.revealPeriodEpochs,
      servingRateLimit: 0,
      store: ctx.chainStore,
    },
  };
}

function common(layout: ProcessLayout, ctx: ConfigContext, role: 'miner' | 'validator'): HordeConfigInput {
  return {
    role,
    dataDir: layout.dataDir,
    store: layout.store,
    chain: chainSection(ctx),
    // JSON lines in the process's own file: `horde devnet` prints where.
    log: { level: 'info', pretty: false, file: layout.logFile },
    metrics: { defaultMetrics: false },
  };
}

/**
 * `--plugin` entries, then the role's own (`--miner-plugin`, `--validator-plugin`), after the
 * devnet's plugins (so they add to, or follow, the shipped ones).
 */
function withExtraPlugins(
  plugins: NonNullable<HordeConfigInput['plugins']>,
  ctx: ConfigContext,
  own: readonly string[] = [],
): HordeConfigInput['plugins'] {
  return [...plugins, ...ctx.options.plugins, ...own];
}

export interface MinerConfigInput {
  readonly layout: ProcessLayout;
  readonly port: number;
  /** Null for the trusted miner: it is not on chain and serves only `localModeValidator`. */
  readonly keys: MinerKeys | null;
  readonly trustedKey?: DevKey;
  readonly localModeValidator?: string;
  /** Port of the miner's dashboard (`--dashboard`); none without. */
  readonly dashboardPort?: number;
}

/**
 * A miner: the local executor manager with `--executors` test-class executors, the process runner
 * mapping the hash-crack image to `crack.mjs` (a cheater's to `cheat.mjs`), its axon announced on
 * the LocalChain at 127.0.0.1, and `@horde/plugin-dancing` (rotate-main) for a dancer. With
 * `--docker` the executors run the real image in containers, except a cheater's: cheating is a
 * process-runner mapping.
 */
export function minerConfig(input: MinerConfigInput, ctx: ConfigContext): HordeConfigInput {
  const { layout, keys } = input;
  const behaviour = keys?.behaviour ?? 'honest';
  const script = behaviour === 'cheater' ? ctx.scripts.cheat : ctx.scripts.crack;
  const runner = ctx.options.docker && behaviour !== 'cheater' ? 'docker' : 'process';
  const hotkeys = keys ? keys.hotkeys : [input.trustedKey!];
  // A miner's own executor manager (`--miner-plugin`) replaces the local one; the trusted miner keeps it.
  const customManager = keys !== null && Boolean(ctx.minerExecutorManager);
  const plugins: NonNullable<HordeConfigInput['plugins']> = [
    '@horde/plugin-hardware-classes',
    ...(customManager
      ? []
      : [
          {
            name: '@horde/executor-manager-local',
            config: { executorClass: DEVNET_EXECUTOR_CLASS, executors: keys ? ctx.options.executors : 1, killGraceMs: 2_000 },
          },
        ]),
  ];
  if (behaviour === 'dancer') plugins.push({ name: '@horde/plugin-dancing', config: { strategy: 'rotate-main' } });
  if (behaviour === 'farmer') plugins.push(FARMING_PLUGIN);
  return {
    ...common(layout, ctx, 'miner'),
    hotkey: { uri: hotkeys[0]!.uri },
    miner: {
      host: '127.0.0.1',
      port: input.port,
      ...(hotkeys.length > 1 ? { hotkeys: hotkeys.map((key) => ({ uri: key.uri })) } : {}),
      ...(input.localModeValidator ? { localMode: { validatorHotkey: input.localModeValidator } } : { announce: { ip: '127.0.0.1' } }),
      cycleLengthBlocks: ctx.chain.cycleBlocks,
      // The validator reads manifests from the websocket greeting; no commitments needed.
      manifestCommitIntervalSeconds: 0,
      metagraphRefreshSeconds: 10,
      executorStartupTimeLimitSeconds: 10,
    },
    executor: {
      runner,
      // The same Node that runs the devnet runs the job scripts.
      processImages: { [ctx.scripts.image]: [process.execPath, script] },
      machineSpecs: false,
      // The container-escape probe needs a shell, mount and util-linux unshare in an image; the
      // hash-crack image has none of them. The engine check stays: it needs nothing.
      ...(runner === 'docker' ? { startupChecks: ['docker_engine'] } : {}),
    },
    plugins: withExtraPlugins(plugins, ctx, keys ? ctx.options.minerPlugins : []),
    ...(input.dashboardPort !== undefined ? { dashboard: { enabled: true, port: input.dashboardPort } } : {}),
  };
}

export interface ValidatorConfigInput {
  readonly layout: ProcessLayout;
  readonly keys: DevnetKeys;
  readonly trustedMinerPort: number;
  /** Port of the validator's dashboard and /metrics (`--dashboard`); none without. */
  readonly dashboardPort?: number;
}

/** Blocks between reveal attempts: about twice a second. */
export function revealEveryBlocks(blockTimeMs: number): number {
  return Math.max(1, Math.ceil(500 / blockTimeMs));
}

/**
 * The validator: hash-crack synthetic jobs, classic scoring with the test class weighted 1 (every
 * devnet executor is a test-class machine), timeouts short enough for a devnet cycle, its trusted
 * miner, weights by commit-reveal with reveals tried about twice a second.
 */
export function validatorConfig(input: ValidatorConfigInput, ctx: ConfigContext): HordeConfigInput {
  const { layout, keys } = input;
  return {
    ...common(layout, ctx, 'validator'),
    hotkey: { uri: keys.validator.hotkey.uri },
    validator: {
      cycleLengthBlocks: ctx.chain.cycleBlocks,
      batchOffsetBlocks: Math.min(10, Math.floor(ctx.chain.cycleBlocks / 10)),
      manifestTimeoutSeconds: 5,
      mainHotkeyTimeoutSeconds: 3,
      jobResponseSlackSeconds: 15,
      trustedMiner: { address: '127.0.0.1', port: input.trustedMinerPort, hotkey: keys.trustedMiner.ss58 },
      weights: { retryDelaySeconds: 1, revealEveryBlocks: revealEveryBlocks(ctx.chain.blockTimeMs) },
      ...(ctx.options.validatorWorkers > 1 ? { workers: devnetWorkers(ctx.options.validatorWorkers) } : {}),
    },
    plugins: withExtraPlugins(
      [
        '@horde/plugin-hardware-classes',
        '@horde/plugin-job-hash-crack',
        {
          name: '@horde/plugin-scoring-classic',
          config: { classWeights: Object.fromEntries((ctx.validatorClasses ?? [DEVNET_EXECUTOR_CLASS]).map((id) => [id, 1])) },
        },
      ],
      ctx,
      ctx.options.validatorPlugins,
    ),
    ...(input.dashboardPort !== undefined ? { dashboard: { enabled: true, port: input.dashboardPort } } : {}),
  };
}

/**
 * `--validator-workers N`: `horde validator` supervises N worker processes over the validator's
 * PostgreSQL database. One miner per task, so a devnet's few miners spread over every worker
 * (a dancer's hotkeys stay in one task: they share a coldkey); the leader polls twice a second so
 * a batch's end is seen well within a short devnet cycle.
 */
function devnetWorkers(processes: number) {
  return { enabled: true, processes, minersPerTask: 1, pollSeconds: 0.5 };
}

/**
 * Validates a config exactly as `horde … --config` will (so a mistake shows before anything
 * starts) and writes it as JSON.
 */
export function writeProcessConfig(layout: ProcessLayout, config: HordeConfigInput): void {
  parseConfig(config, { configFile: layout.configFile });
  mkdirSync(dirname(layout.configFile), { recursive: true });
  writeFileSync(layout.configFile, `${JSON.stringify(config, null, 2)}\n`);
}
