import {
  HARDWARE_CLASS,
  JOB_GENERATOR,
  SCORING_RULE,
  type Chain,
  type Clock,
  type Logger,
  type Metrics,
  type ObjectStore,
  type Store,
} from '../contracts/index.js';
import type { HordeConfig } from '../config/index.js';
import { storeOptions } from '../config/store-options.js';
import { openProcess, type OpenedProcess } from '../container/open-process.js';
import { loadHotkey, type Hotkey } from '../keys/index.js';
import { ValidatorConfigError } from './errors.js';
import { createValidator, type ValidatorHandle } from './service.js';
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
  /** Stops the validator, then closes its plugins, the chain and the store (newest first). */
  close(): Promise<void>;
}

/** Replacements for embedding and tests (the devnet shares one store and chain); what is given is not closed. */
export interface StartValidatorOptions {
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly clock?: Clock;
  readonly hotkey?: Hotkey;
  readonly store?: Store;
  readonly chain?: Chain;
  readonly objectStore?: ObjectStore;
  /** Default true: follow the chain. */
  readonly autoRun?: boolean;
}

/** The worker pool of `validator.workers` (PostgreSQL only: SQLite is one process's store). */
async function openWorkerPool(scope: OpenedProcess<'validator'>, validatorHotkey: string): Promise<ValidatorWorkerPool> {
  const options = storeOptions(scope.config);
  if (options.client !== 'postgres' || scope.store.dialect !== 'postgres') {
    throw new ValidatorWorkersError(
      'HORDE_VALIDATOR_WORKERS_NEED_POSTGRES',
      'validator.workers needs store.client "postgres" with store.url: the workers share their work through PostgreSQL (SQLite serves one process only)',
    );
  }
  const { ValidatorWorkerPool } = await import('./workers/pool.js');
  return ValidatorWorkerPool.open({
    store: scope.store,
    url: options.url,
    validatorHotkey,
    settings: scope.config.validator.workers,
    logger: scope.logger,
    clock: scope.clock,
  });
}

/** The plugins' contracts a validator cannot run without, each missing one named with the plugin to add. */
function validatorPlugins(scope: OpenedProcess<'validator'>) {
  const { plugins } = scope;
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
  return { hardwareClasses, generators, scoringRules };
}

/** The validator's dashboard (which also serves `/metrics`): its page, the metagraph cached for 30 s. */
function startValidatorDashboard(scope: OpenedProcess<'validator'>, handle: ValidatorHandle, hotkey: Hotkey): Promise<DashboardServer> {
  const { config, clock, chain } = scope;
  const metagraph = cachedFor(
    30_000,
    () => clock.now(),
    () => chain.metagraph(config.chain.netuid),
  );
  return startDashboardServer({
    settings: config.dashboard,
    metrics: scope.metrics,
    logger: scope.logger,
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
}

/**
 * `horde validator --config F`: opens the process (`openProcess`: store, chain, object store,
 * plugins with their hardware classes, job generators and scoring rules), the worker pool when
 * `validator.workers` is on, starts the validator (`createValidator`), its metrics and dashboard.
 * Fails before starting anything long-lived when a needed plugin is missing.
 */
export async function startValidator(config: HordeConfig, options: StartValidatorOptions = {}): Promise<ValidatorProcess> {
  const hotkey = options.hotkey ?? (await loadHotkey(config.hotkey));
  const scope = await openProcess(config, 'validator', { ...options, chainSigner: hotkey });
  const { logger } = scope;
  try {
    const { hardwareClasses, generators, scoringRules } = validatorPlugins(scope);
    const workers = config.validator.workers.enabled ? await openWorkerPool(scope, hotkey.ss58) : undefined;
    const handle = await createValidator({
      hotkey,
      chain: scope.chain,
      store: scope.store,
      netuid: config.chain.netuid,
      settings: config.validator,
      generators,
      hardwareClasses,
      scoringRules,
      logger,
      clock: scope.clock,
      ...definedFields({ autoRun: options.autoRun, workers }),
    });
    scope.cleanup.add('validator', () => handle.close());
    scope.cleanup.add('validator metrics', new ValidatorMetrics(scope.metrics).observe(handle));
    const dashboard = config.dashboard.enabled ? await startValidatorDashboard(scope, handle, hotkey) : null;
    if (dashboard) scope.cleanup.add('dashboard', () => dashboard.close());
    logger.info(
      {
        validatorHotkey: hotkey.ss58,
        netuid: config.chain.netuid,
        generators: generators.map((g) => g.name),
        rules: scoringRules.map((r) => r.name),
      },
      'validator started',
    );
    return { handle, logger, dashboardUrl: dashboard?.url ?? null, close: () => scope.close() };
  } catch (error) {
    await scope.close();
    throw error;
  }
}
