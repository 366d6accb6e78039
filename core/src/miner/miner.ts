import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type {
  Chain,
  Clock,
  CapacityPolicy,
  DancingStrategy,
  ExecutorManager,
  HardwareClass,
  Logger,
  Metrics,
  Store,
} from '../contracts/index.js';
import { COMPUTE_HORDE_SHORT_CODES } from '../chain/manifest-commitment.js';
import type { DashboardSection } from '../config/sections/dashboard.js';
import type { ExecutorSection } from '../config/sections/executor.js';
import { startDashboardServer, type DashboardServer } from '../dashboard/server.js';
import { minerPage } from './dashboard-page.js';
import { ReceiptServingTally } from './receipts/serving-tally.js';
import type { MinerSection } from '../config/sections/miner.js';
import type { Hotkey } from '../keys/index.js';
import { AuthVerifier } from '../protocol/auth.js';
import { MinerConfigError } from './errors.js';
import { defaultExecutorCommand, executorLaunch } from './executor-launch.js';
import { stakeProportionalPolicy } from './capacity/stake-share.js';
import { HotkeyManifests } from './hotkey-manifests.js';
import { PreAuthBudget } from './http/pre-auth-budget.js';
import { createMinerServer } from './http/server.js';
import { JobHub } from './jobs/job-hub.js';
import { ManifestPublisher, type PublishResult } from './manifest-publisher.js';
import { announceAxon, versionAsInt } from './axon-announcer.js';
import { coreVersion } from '../version.js';
import { MinerMetrics } from './metrics.js';
import { runPeriodically } from './periodic.js';
import { ExecutorPool } from './pool/executor-pool.js';
import { ReceiptPages } from './receipts/pages.js';
import { ReceiptService } from './receipts/receipt-service.js';
import { ExecutorSession } from './sessions/executor-session.js';
import { ValidatorSession } from './sessions/validator-session.js';
import { createMinerStore, type JobStageEnded } from './store/index.js';
import { ValidatorDirectory } from '../chain/validator-directory.js';

/** Everything a miner runs on, already resolved (config, keys, plugins, infrastructure). */
export interface MinerDeps {
  readonly settings: MinerSection;
  /** Settings the miner hands to every executor agent it starts. */
  readonly executorSettings: ExecutorSection;
  /** The hotkeys this process serves, config order; the first is the default main hotkey. */
  readonly hotkeys: readonly Hotkey[];
  readonly store: Store;
  /** The chain client of the first hotkey; null only in local mode without a chain. */
  readonly chain: Chain | null;
  /** Chain clients of the other hotkeys, for their manifest commitments (default: `chain` for all). */
  readonly chainFor?: (hotkey: string) => Chain;
  readonly netuid: number;
  readonly executorManager: ExecutorManager;
  readonly dancingStrategy: DancingStrategy | null;
  /** The CAPACITY_POLICY plugin; default (null or absent) stake-proportional sharing. */
  readonly capacityPolicy?: CapacityPolicy | null;
  /** Hardware-class plugins: spin-up times and commitment short codes. */
  readonly hardwareClasses: readonly HardwareClass[];
  /** Receipt pages go to `{dataDir}/receipts`. */
  readonly dataDir: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  /** The `dashboard` config section; served when enabled. */
  readonly dashboard?: DashboardSection;
}

export interface RunningMiner {
  readonly port: number;
  /** `http://host:port` of the one port (websockets are the same with ws://). */
  readonly url: string;
  /** ss58 of the served hotkeys, config order. */
  readonly hotkeys: readonly string[];
  /** Address of the dashboard, or null when it is not enabled. */
  readonly dashboardUrl: string | null;
  /** Commits the manifests now (the periodic task does the same). */
  publishManifests(): Promise<PublishResult[]>;
  /** Runs eviction now: jobs, receipts and pages older than the retention. */
  evict(): Promise<void>;
  /** Stops accepting, kills every executor, stops the tasks. Leaves the store open (the caller owns it). */
  close(): Promise<void>;
}

/** The miner's store with the stage-duration hook, after failing the jobs the previous process left active. */
async function openMinerStore(deps: MinerDeps, log: Logger) {
  // The stage-duration metric is fed by the store; the metrics object is made later (jobs failed
  // at start-up, before it exists, are not timed: their stage ended with the previous process).
  const stageEnded: { listener: ((event: JobStageEnded) => void) | null } = { listener: null };
  const store = createMinerStore(deps.store.db, () => deps.clock.now(), { onStageEnded: (event) => stageEnded.listener?.(event) });
  const abandoned = await store.jobs.failActive('miner_restarted', 'the miner restarted while the job ran');
  if (abandoned > 0) log.warn({ jobs: abandoned }, 'jobs left unfinished by the previous miner process marked failed');
  return { store, stageEnded };
}

type MinerStore = Awaited<ReturnType<typeof openMinerStore>>['store'];

/** What validator sessions, the job hub and the periodic tasks share. */
interface MinerCore {
  readonly store: MinerStore;
  readonly hotkeys: ReadonlyMap<string, Hotkey>;
  readonly hotkeyIds: readonly string[];
  readonly pages: ReceiptPages;
  readonly pool: ExecutorPool;
  readonly metrics: MinerMetrics;
  readonly receipts: ReceiptService | null;
  readonly directory: ValidatorDirectory;
  readonly verifier: AuthVerifier;
  readonly manifests: HotkeyManifests;
  readonly hub: JobHub;
  /** The executors' miner address; known once the server listens (the real port when port is 0). */
  executorAddress: string;
}

/**
 * The miner's components, wired: executor pool, metrics, receipts, validator directory and checks,
 * manifests and the job hub. The pool's callbacks and the metrics use the hub made last; neither
 * runs before it exists.
 */
async function wireMiner(deps: MinerDeps, log: Logger, localMode: boolean): Promise<MinerCore> {
  const { settings, clock } = deps;
  const now = () => clock.now();
  const { store, stageEnded } = await openMinerStore(deps, log);
  const hotkeys = new Map(deps.hotkeys.map((hotkey) => [hotkey.ss58, hotkey]));
  const hotkeyIds = deps.hotkeys.map((hotkey) => hotkey.ss58);
  const pages = new ReceiptPages(join(deps.dataDir, 'receipts'), now);
  const classes = new Map(deps.hardwareClasses.map((hc) => [hc.id, hc]));

  const pool = new ExecutorPool({
    manager: deps.executorManager,
    clock,
    logger: log,
    ttlMs: settings.executorTtlSeconds * 1000,
    startupLimitMs: settings.executorStartupTimeLimitSeconds * 1000,
    onExecutorGone: (event) => core.hub.onExecutorGone(event),
    onExecutorExpiring: (event) => core.hub.onExecutorExpiring(event.token),
  });
  const metrics = new MinerMetrics(deps.metrics, {
    usage: () => pool.usage(),
    connections: () => core.hub.connectionCount,
    fleet: () => deps.executorManager.fleet?.() ?? [],
    holders: () => pool.holdings(),
  });
  stageEnded.listener = (event) => metrics.stageEnded(event);
  const receipts = localMode
    ? null
    : new ReceiptService({
        repository: store.receipts,
        pages,
        hotkeys,
        logger: log,
        onStored: (receipt) => metrics.receiptsStored.inc({ receipt_type: receipt.payload.receipt_type }),
      });
  const directory = new ValidatorDirectory({
    chain: localMode ? null : deps.chain,
    netuid: deps.netuid,
    minStake: settings.minValidatorStake,
    debugAllowed: settings.debugAllowedValidators,
    localModeValidator: settings.localMode?.validatorHotkey ?? null,
    refreshMs: settings.metagraphRefreshSeconds * 1000,
    clock,
    logger: log,
  });
  const verifier = new AuthVerifier({ minerHotkey: null, now, validatorStatus: (hotkey) => directory.status(hotkey) });
  const manifests = new HotkeyManifests({
    manager: deps.executorManager,
    strategy: deps.dancingStrategy,
    hotkeys: hotkeyIds,
    chain: deps.chain,
    cycleLengthBlocks: settings.cycleLengthBlocks,
    logger: log,
  });

  const hub = new JobHub({
    store,
    pool,
    capacityPolicy: deps.capacityPolicy ?? stakeProportionalPolicy(),
    stakesOf: (hotkeys) => directory.stakesOf(hotkeys),
    manager: deps.executorManager,
    receipts,
    hotkeys,
    clock,
    logger: log,
    metrics,
    executorAddress: () => core.executorAddress,
    launch: (token) =>
      executorLaunch(token, {
        command: settings.executorCommand ?? defaultExecutorCommand(),
        executorAddress: core.executorAddress,
        startupTimeLimitSeconds: settings.executorStartupTimeLimitSeconds,
        executor: deps.executorSettings,
      }),
    spinUpSeconds: (executorClass) => classes.get(executorClass)?.spinUpSeconds ?? settings.defaultSpinUpSeconds,
    startupTimeLimitSeconds: settings.executorStartupTimeLimitSeconds,
    capacityWaitMs: settings.capacityWaitSeconds * 1000,
  });
  const core: MinerCore = {
    store,
    hotkeys,
    hotkeyIds,
    pages,
    pool,
    metrics,
    receipts,
    directory,
    verifier,
    manifests,
    hub,
    executorAddress: settings.executorAddress ?? '',
  };
  return core;
}

/** The one port: validator and executor websockets, receipt pages, `/metrics`, `/healthz`; listening when it returns. */
async function listenMinerServer(deps: MinerDeps, core: MinerCore, log: Logger, localMode: boolean) {
  const { settings } = deps;
  const { hub, pool, metrics } = core;
  const preAuth = new PreAuthBudget({ bytesPerConnection: settings.validatorMaxBytesBeforeAuth, ...settings.preAuth }, log);
  const receiptServing = new ReceiptServingTally();
  const server = await createMinerServer({
    pages: core.pages,
    receiptServing,
    now: () => deps.clock.now(),
    preAuth,
    metrics: deps.metrics,
    logger: log,
    handlers: {
      onValidator: (socket, validatorHotkey, preAuthGate) => {
        new ValidatorSession(socket, validatorHotkey, {
          hub,
          verifier: core.verifier,
          directory: core.directory,
          manifests: core.manifests,
          receipts: core.receipts,
          store: core.store,
          localMode,
          authTimeoutMs: settings.validatorAuthTimeoutSeconds * 1000,
          maxBytesBeforeAuth: settings.validatorMaxBytesBeforeAuth,
          preAuth: preAuthGate,
          logger: log,
          metrics,
        }).start();
      },
      onExecutor: (socket, token, remoteAddress) => {
        const claim = hub.claimToken(token);
        if (typeof claim === 'string') {
          metrics.executorConnectionsRefused.inc();
          ExecutorSession.refuse(socket, claim, log);
        } else new ExecutorSession(socket, claim, hub, remoteAddress, log, metrics).start();
      },
      health: () => ({ hotkeys: core.hotkeyIds, executors: pool.usage(), jobs: hub.activeJobs().length, unauthenticated: preAuth.usage() }),
    },
  });
  await server.listen({ host: settings.host, port: settings.port });
  const port = (server.server.address() as AddressInfo).port;
  core.executorAddress ||= `ws://127.0.0.1:${port}`;
  return { server, port, receiptServing };
}

/** Drops jobs, receipts and pages older than the retention. */
function evictionOf(deps: MinerDeps, core: MinerCore, log: Logger): () => Promise<void> {
  return async () => {
    const cutoff = deps.clock.now() - deps.settings.retentionSeconds * 1000;
    const [jobs, receiptRows, pageFiles] = [
      await core.store.jobs.evictOlderThan(cutoff),
      await core.store.receipts.evictOlderThan(cutoff),
      await core.pages.evictOlderThan(cutoff),
    ];
    core.hub.sweep();
    if (jobs + receiptRows + pageFiles > 0) log.info({ jobs, receipts: receiptRows, pages: pageFiles }, 'evicted old jobs and receipts');
  };
}

/**
 * The periodic tasks until `signal` aborts: eviction, the axon announcement (its first run before
 * the miner says it is up, so validators can find it from then on), the manifest commitment and
 * the executor manager's `prepare`.
 */
async function startPeriodicTasks(
  deps: MinerDeps,
  core: MinerCore,
  tools: {
    log: Logger;
    signal: AbortSignal;
    port: number;
    localMode: boolean;
    evict: () => Promise<void>;
    publisher: ManifestPublisher | null;
  },
): Promise<Promise<void>[]> {
  const { settings, clock } = deps;
  const { log, signal } = tools;
  const tasks = [runPeriodically('eviction', settings.evictionIntervalSeconds * 1000, tools.evict, { clock, logger: log, signal })];
  const { announce } = settings;
  if (announce && !tools.localMode && deps.chain) {
    const chainFor = deps.chainFor ?? (() => deps.chain!);
    const axon = { ip: announce.ip, port: announce.port ?? tools.port, version: versionAsInt(coreVersion()) };
    const announceNow = () => announceAxon({ hotkeys: core.hotkeyIds, chainFor, netuid: deps.netuid, axon, logger: log });
    await announceNow();
    tasks.push(
      runPeriodically('axon announcement', announce.intervalSeconds * 1000, announceNow, {
        clock,
        logger: log,
        signal,
        firstRunAfterInterval: true,
      }),
    );
  }
  const { publisher } = tools;
  if (publisher && settings.manifestCommitIntervalSeconds > 0) {
    tasks.push(
      runPeriodically('manifest commitment', settings.manifestCommitIntervalSeconds * 1000, async () => void (await publisher.publish()), {
        clock,
        logger: log,
        signal,
      }),
    );
  }
  if (deps.executorManager.prepare) {
    const prepare = deps.executorManager.prepare.bind(deps.executorManager);
    // ComputeHorde pulls the executor image every 10 minutes.
    tasks.push(runPeriodically('executor manager prepare', 10 * 60_000, prepare, { clock, logger: log, signal }));
  }
  return tasks;
}

/** The manifest publisher, or null for a miner that commits nothing (local mode or no chain). */
function manifestPublisher(deps: MinerDeps, core: MinerCore, log: Logger, localMode: boolean): ManifestPublisher | null {
  if (localMode || !deps.chain) return null;
  const shortCodes: Record<string, string> = { ...COMPUTE_HORDE_SHORT_CODES };
  for (const hc of deps.hardwareClasses) shortCodes[hc.id] = hc.shortCode;
  return new ManifestPublisher({
    manifests: core.manifests,
    chainFor: deps.chainFor ?? (() => deps.chain!),
    netuid: deps.netuid,
    shortCodes,
    logger: log,
  });
}

/**
 * Builds and starts a miner from resolved dependencies: store repositories, the executor pool over
 * the executor manager, receipts, validator checks, the job hub (`wireMiner`), the HTTP/websocket
 * server (`listenMinerServer`), the periodic tasks (`startPeriodicTasks`) and the dashboard.
 * `startMiner` does the resolving from a config; tests and embedders may call this directly.
 * Log lines carry what `deps.logger` is bound to (`startMiner`'s says `role: miner`).
 */
export async function createMiner(deps: MinerDeps): Promise<RunningMiner> {
  const { settings, logger: log, clock } = deps;
  if (deps.hotkeys.length === 0) throw new MinerConfigError('a miner needs at least one hotkey');
  const localMode = settings.localMode !== null;
  if (!deps.chain && !localMode) throw new MinerConfigError('a miner needs a chain unless it runs in local mode (miner.localMode)');

  const core = await wireMiner(deps, log, localMode);
  const { hub, pool, store, hotkeyIds } = core;
  const { server, port, receiptServing } = await listenMinerServer(deps, core, log, localMode);
  pool.start();

  const publisher = manifestPublisher(deps, core, log, localMode);
  const evict = evictionOf(deps, core, log);
  const stop = new AbortController();
  const tasks = await startPeriodicTasks(deps, core, { log, signal: stop.signal, port, localMode, evict, publisher });

  const url = `http://${settings.host === '0.0.0.0' || settings.host === '::' ? '127.0.0.1' : settings.host}:${port}`;
  log.info({ port, hotkeys: hotkeyIds, executorAddress: core.executorAddress, localMode }, 'miner listening');

  let dashboard: DashboardServer | null = null;
  if (deps.dashboard?.enabled) {
    try {
      dashboard = await startDashboardServer({
        settings: deps.dashboard,
        metrics: deps.metrics,
        logger: log,
        clock,
        page: () =>
          minerPage({
            hotkeys: hotkeyIds,
            url: () => url,
            store,
            usage: () => pool.usage(),
            manager: deps.executorManager,
            connectedValidators: () => hub.connectedValidators(),
            now: () => clock.now(),
            receipts: { pages: core.pages, serving: receiptServing },
          }),
      });
    } catch (error) {
      stop.abort();
      hub.close();
      await server.close();
      await pool.close();
      await Promise.all(tasks);
      throw error;
    }
  }

  let closing: Promise<void> | null = null;
  return {
    port,
    url,
    hotkeys: hotkeyIds,
    dashboardUrl: dashboard?.url ?? null,
    publishManifests: async () => {
      if (!publisher) throw new MinerConfigError('this miner does not commit manifests (local mode or no chain)');
      return publisher.publish();
    },
    evict,
    close: () =>
      (closing ??= (async () => {
        stop.abort();
        await dashboard?.close();
        hub.close();
        await server.close();
        await pool.close();
        await hub.drain();
        await deps.executorManager.close?.();
        await Promise.all(tasks);
        log.info('miner stopped');
      })()),
  };
}
