import {
  HARDWARE_CLASS,
  JOB_GENERATOR,
  SCORING_RULE,
  type Chain,
  type Clock,
  type Logger,
  type ObjectStore,
  type Store,
} from '../contracts/index.js';
import type { HordeConfig } from '../config/index.js';
import { storeOptions } from '../config/store-options.js';
import { openChain } from '../chain/open-chain.js';
import { loadHotkey, type Hotkey } from '../keys/index.js';
import { createLogger } from '../logging/index.js';
import { createMetricsRegistry } from '../metrics/index.js';
import { instrumentChain } from '../metrics/chain-metrics.js';
import { checkPluginDependencies, loadPlugins, roleInfrastructure } from '../plugin/index.js';
import { SystemClock } from '../time/clock.js';
import { createRuntimeContainer } from '../container/container.js';
import { openStore } from '../store/index.js';
import { ValidatorConfigError } from './errors.js';
import { startValidator, type ValidatorHandle } from './service.js';
import { cachedFor } from '../dashboard/cached.js';
import { startDashboardServer, type DashboardServer } from '../dashboard/server.js';
import { validatorJobPage, validatorPage } from './dashboard-page.js';
import { ValidatorMetrics } from './metrics.js';
import { ValidatorWorkersError } from './workers/errors.js';
import type { ValidatorWorkerPool } from './workers/pool.js';
import { definedFields } from '../object/defined-fields.js';

export interface ValidatorProcess {
  readonly handle: ValidatorHandle;
  readonly logger: Logger;
  /** Address of the dashboard (which also serves `/metrics`), or null when it is not enabled. */
  readonly dashboardUrl: string | null;
  /** Stops the validator and closes the chain and the store. */
  close(): Promise<void>;
}

/** Replacements for embedding and tests (the devnet shares one store and chain); what is given is not closed. */
export interface ValidatorFromConfigOptions {
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly hotkey?: Hotkey;
  readonly store?: Store;
  readonly chain?: Chain;
  readonly objectStore?: ObjectStore;
  /** Default true: follow the chain. */
  readonly autoRun?: boolean;
}

async function objectStoreFor(config: HordeConfig): Promise<ObjectStore | undefined> {
  const section = config.objectStore;
  if (!section.endpoint) return undefined;
  const { S3ObjectStore } = await import('../objectstore/s3.js');
  const store = new S3ObjectStore({
    endpoint: section.endpoint,
    region: section.region,
    bucket: section.bucket,
    forcePathStyle: section.forcePathStyle,
    ...(section.accessKeyId ? { accessKeyId: section.accessKeyId } : {}),
    ...(section.secretAccessKey ? { secretAccessKey: section.secretAccessKey } : {}),
  });
  await store.ensureBucket();
  return store;
}

/** The worker pool of `validator.workers` (PostgreSQL only: SQLite is one process's store). */
async function openWorkerPool(
  config: HordeConfig,
  store: Store,
  validatorHotkey: string,
  logger: Logger,
  clock: Clock,
): Promise<ValidatorWorkerPool> {
  const options = storeOptions(config);
  if (options.client !== 'postgres' || store.dialect !== 'postgres') {
    throw new ValidatorWorkersError(
      'HORDE_VALIDATOR_WORKERS_NEED_POSTGRES',
      'validator.workers needs store.client "postgres" with store.url: the workers share their work through PostgreSQL (SQLite serves one process only)',
    );
  }
  const { ValidatorWorkerPool } = await import('./workers/pool.js');
  return ValidatorWorkerPool.open({ store, url: options.url, validatorHotkey, settings: config.validator.workers, logger, clock });
}

/**
 * `horde validator --config F`: opens the store, the chain and the object store the config names,
 * loads the plugins (hardware classes, job generators, scoring rules), and starts the validator.
 * Fails before starting anything long-lived when a needed plugin is missing.
 */
export async function startValidatorFromConfig(config: HordeConfig, options: ValidatorFromConfigOptions = {}): Promise<ValidatorProcess> {
  const logger =
    options.logger ??
    createLogger({
      level: config.log.level,
      ...definedFields({ pretty: config.log.pretty }),
      ...(config.log.file ? { destination: config.log.file } : {}),
      base: { role: 'validator' },
    });
  const clock = options.clock ?? new SystemClock();
  const hotkey = options.hotkey ?? (await loadHotkey(config.hotkey));
  const opened: Array<{ close(): Promise<void> }> = [];
  const closeOpened = async () => {
    for (const resource of opened.reverse()) await resource.close().catch(() => undefined);
  };
  try {
    // Declared plugin dependencies first: a missing contract fails before the store and chain open.
    await checkPluginDependencies(config, roleInfrastructure(config));
    const store = options.store ?? (await openStore(storeOptions(config)));
    if (!options.store) opened.push(store);
    const metrics = createMetricsRegistry({ defaultMetrics: config.metrics.defaultMetrics, labels: { role: 'validator' } });
    const openedChain = options.chain ?? (await openChain(config.chain, hotkey, store, { logger, clock }));
    if (!options.chain) opened.push(openedChain);
    const chain = instrumentChain(openedChain, metrics);
    const objectStore = options.objectStore ?? (await objectStoreFor(config));
    const root = createRuntimeContainer({
      config,
      logger,
      metrics,
      clock,
      store,
      chain,
      ...definedFields({ objectStore }),
    });
    const plugins = await loadPlugins(config, root);
    // Closed before the store and chain its implementations may use (closeOpened goes newest first).
    opened.push(plugins);
    // The same checks as `horde config check`, before anything runs.
    await plugins.validate();
    const hardwareClasses = plugins.all(HARDWARE_CLASS);
    const generators = plugins.all(JOB_GENERATOR);
    const scoringRules = plugins.all(SCORING_RULE);
    if (scoringRules.length === 0) {
      throw new ValidatorConfigError('No scoring rules: add "@horde/plugin-scoring-classic" (or another ScoringRule plugin) to plugins.');
    }
    if (generators.length === 0) {
      throw new ValidatorConfigError('No job generators: add "@horde/plugin-job-hash-crack" (or another JobGenerator plugin) to plugins.');
    }
    if (hardwareClasses.length === 0) {
      throw new ValidatorConfigError('No hardware classes: add "@horde/plugin-hardware-classes" to plugins.');
    }
    const workers = config.validator.workers.enabled ? await openWorkerPool(config, store, hotkey.ss58, logger, clock) : undefined;
    const handle = await startValidator({
      hotkey,
      chain,
      store,
      netuid: config.chain.netuid,
      settings: config.validator,
      generators,
      hardwareClasses,
      scoringRules,
      logger,
      clock,
      ...definedFields({ autoRun: options.autoRun, workers }),
    });
    const stopMetrics = new ValidatorMetrics(metrics).observe(handle);
    let dashboard: DashboardServer | null = null;
    if (config.dashboard.enabled) {
      try {
        const metagraph = cachedFor(
          30_000,
          () => clock.now(),
          () => chain.metagraph(config.chain.netuid),
        );
        dashboard = await startDashboardServer({
          settings: config.dashboard,
          metrics,
          logger,
          clock,
          page: () =>
            validatorPage({
              hotkey: hotkey.ss58,
              netuid: config.chain.netuid,
              store: handle.store,
              receipts: handle.transferredReceipts,
              progress: () => handle.progress(),
              metagraph,
              now: () => clock.now(),
              collateral: () => {
                const collateral = handle.organic?.collateral;
                return collateral
                  ? {
                      snapshot: collateral.book.snapshot(),
                      minimumWei: collateral.minimumWei,
                      errorCode: collateral.book.error?.code ?? null,
                    }
                  : null;
              },
            }),
          details: { jobs: (jobUuid) => validatorJobPage(handle.store, jobUuid, clock.now()) },
        });
      } catch (error) {
        stopMetrics();
        await handle.close();
        throw error;
      }
    }
    logger.info(
      {
        validatorHotkey: hotkey.ss58,
        netuid: config.chain.netuid,
        generators: generators.map((g) => g.name),
        rules: scoringRules.map((r) => r.name),
      },
      'validator started',
    );
    return {
      handle,
      logger,
      dashboardUrl: dashboard?.url ?? null,
      close: async () => {
        await dashboard?.close();
        stopMetrics();
        await handle.close();
        await closeOpened();
      },
    };
  } catch (error) {
    await closeOpened();
    throw error;
  }
}
