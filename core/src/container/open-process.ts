import type { DependencyContainer } from './di.js';
import type { Chain, Clock, Logger, Metrics, ObjectStore, Store } from '../contracts/index.js';
import type { HordeConfig } from '../config/index.js';
import type { ChainSigner } from '../chain/subtensor/subtensor-chain.js';
import { processLogger } from './process-logger.js';
import type { LoadedPlugins } from '../plugin/index.js';
import { SystemClock } from '../time/clock.js';
// The store, chain, plugin loader and metrics modules are imported when a role needs them (see
// `openProcess`): an executor starts once per job, against its startup time limit, and loading
// knex, @polkadot/api and prom-client for nothing cost it seconds on a loaded machine.
import { Cleanup } from './cleanup.js';
import { createRuntimeContainer } from './container.js';
import { definedFields } from '../object/defined-fields.js';

import type { ProcessRole } from './process-logger.js';
export type { ProcessRole } from './process-logger.js';

/** What a role's process opens, besides its logger, metrics registry and clock. */
interface RoleParts {
  /** The store (migrations run on open) and, on it, the chain. */
  readonly storeAndChain: boolean;
  /** The config's plugins, their dependency check and `validate`, and the object store they may use. */
  readonly plugins: boolean;
  /** Whether it serves `/metrics`, so the process's default metrics (CPU, memory, event loop) are worth collecting. */
  readonly servesMetrics: boolean;
}

const ROLE_PARTS: Record<ProcessRole, RoleParts> = {
  miner: { storeAndChain: true, plugins: true, servesMetrics: true },
  validator: { storeAndChain: true, plugins: true, servesMetrics: true },
  // No plugin contract is the facilitator's; it needs the chain only to read who validates.
  facilitator: { storeAndChain: true, plugins: false, servesMetrics: true },
  executor: { storeAndChain: false, plugins: false, servesMetrics: false },
};

type WithStore = 'miner' | 'validator' | 'facilitator';

/**
 * What a role opens from: the whole config, except for an executor a miner launched, which reads
 * only its `executor` and `log` sections (from the environment, `agentSettingsFromEnv`) and opens
 * nothing that needs more.
 */
export type ProcessConfig<R extends ProcessRole> = R extends 'executor' ? Pick<HordeConfig, 'executor' | 'log'> : HordeConfig;

/** Replacements for embedding and tests (the devnet shares one store and chain); what is given is never closed here. */
export interface OpenProcessOptions {
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly clock?: Clock;
  readonly store?: Store;
  readonly chain?: Chain;
  readonly objectStore?: ObjectStore;
  /** Who signs the chain's extrinsics (the role's hotkey); null opens a read-only handle. Default null. */
  readonly chainSigner?: ChainSigner | null;
  /**
   * A chain that cannot be opened is logged and the process goes on without one (`chain` is null):
   * a local-mode miner is not on chain and only loses its dancing cycles.
   */
  readonly chainOptional?: boolean;
}

/** One role's process once its shared parts are open; `close()` undoes all of it. */
export interface OpenedProcess<R extends ProcessRole = ProcessRole> {
  readonly role: R;
  readonly config: ProcessConfig<R>;
  /** Bound to `{ role }`. */
  readonly logger: Logger;
  /** Labelled `{ role }`; the role's `/metrics` serves it. None for an executor, which serves none. */
  readonly metrics: R extends WithStore ? Metrics : null;
  readonly clock: Clock;
  readonly store: R extends WithStore ? Store : null;
  /** Instrumented with the chain-call latency metric; null only for an optional chain that failed to open. */
  readonly chain: R extends 'validator' | 'facilitator' ? Chain : R extends 'miner' ? Chain | null : null;
  /** Present when `objectStore.endpoint` is set (roles with plugins only). */
  readonly objectStore: ObjectStore | null;
  /** The process's registry: infrastructure under its tokens, then every plugin's contracts. */
  readonly container: DependencyContainer;
  /** Loaded, dependency-checked and validated; empty for roles without plugins. */
  readonly plugins: LoadedPlugins;
  /** Where the role registers what it opens next (its server, its dashboard), to be closed first. */
  readonly cleanup: Cleanup;
  /** Another chain client on this process's store (a miner's further hotkeys), closed with the process. */
  openChain(signer: ChainSigner | null): Promise<Chain>;
  /** Closes everything, newest first (see `Cleanup`); idempotent. */
  close(): Promise<void>;
}

const NO_PLUGINS: LoadedPlugins = {
  plugins: [],
  disabled: [],
  single: () => undefined,
  all: () => [],
  validate: async () => undefined,
  close: async () => undefined,
};

/** The S3 object store of `objectStore`, its bucket ensured; null when no endpoint is set. */
async function openObjectStore(config: HordeConfig): Promise<ObjectStore | null> {
  const section = config.objectStore;
  if (!section.endpoint) return null;
  const { S3ObjectStore } = await import('../objectstore/s3.js');
  const objects = new S3ObjectStore({
    endpoint: section.endpoint,
    region: section.region,
    bucket: section.bucket,
    forcePathStyle: section.forcePathStyle,
    ...definedFields({ accessKeyId: section.accessKeyId || undefined, secretAccessKey: section.secretAccessKey || undefined }),
  });
  await objects.ensureBucket();
  return objects;
}

/**
 * The composition root of every horde role: opens, in this order, the logger, metrics registry and
 * clock; checks the plugins' declared dependencies (before anything opens, so a missing contract
 * costs no connection); opens the store (migrations run), the chain and the object store; registers
 * all of it in the process's container; loads the plugins into it and runs their `validate`.
 * Everything opened is registered with `cleanup`; when a step fails, what was opened before it is
 * closed and the error is thrown. The role then builds itself on the result and adds its own
 * closing steps, so one `close()` stops the whole process in reverse order.
 */
export async function openProcess<R extends ProcessRole>(
  processConfig: ProcessConfig<R>,
  role: R,
  options: OpenProcessOptions = {},
): Promise<OpenedProcess<R>> {
  const parts = ROLE_PARTS[role];
  // Only the parts an executor has none of (metrics, plugins, store, chain, object store) read
  // past `log`, so the executor's two sections suffice for it.
  const config = processConfig as HordeConfig;
  const logger = options.logger ?? processLogger(config.log, role);
  const clock = options.clock ?? new SystemClock();
  const cleanup = new Cleanup(logger);

  try {
    const metricsModule = parts.servesMetrics ? await import('../metrics/index.js') : null;
    const metrics =
      options.metrics ?? metricsModule?.createMetricsRegistry({ defaultMetrics: config.metrics.defaultMetrics, labels: { role } }) ?? null;
    const pluginModule = parts.plugins ? await import('../plugin/index.js') : null;
    if (pluginModule) await pluginModule.checkPluginDependencies(config, pluginModule.roleInfrastructure(config));

    let store: Store | null = null;
    if (parts.storeAndChain) {
      const [{ openStore }, { storeOptions }] = await Promise.all([import('../store/index.js'), import('../config/store-options.js')]);
      store = options.store ?? (await openStore(storeOptions(config)));
      if (!options.store) cleanup.add('store', () => store!.close());
    }

    const instrumented = (chain: Chain) => (metricsModule && metrics ? metricsModule.instrumentChain(chain, metrics) : chain);
    const chainOn = async (onStore: Store, signer: ChainSigner | null): Promise<Chain> => {
      const { openChain } = await import('../chain/open-chain.js');
      const opened = await openChain(config.chain, signer, onStore, { logger, clock });
      // Named by its signer: a miner has one chain client per hotkey.
      cleanup.add(signer ? `chain ${signer.ss58}` : 'chain', () => opened.close());
      return instrumented(opened);
    };
    let chain: Chain | null = null;
    if (store) {
      if (options.chain) chain = instrumented(options.chain);
      else {
        try {
          chain = await chainOn(store, options.chainSigner ?? null);
        } catch (error) {
          if (!options.chainOptional) throw error;
          logger.warn({ err: error }, 'no chain; going on without one');
        }
      }
    }

    let objectStore: ObjectStore | null = null;
    if (parts.plugins) objectStore = options.objectStore ?? (await openObjectStore(config));

    const container = createRuntimeContainer({
      config,
      logger,
      clock,
      ...definedFields({
        metrics: metrics ?? undefined,
        store: store ?? undefined,
        chain: chain ?? undefined,
        objectStore: objectStore ?? undefined,
      }),
    });

    let plugins = NO_PLUGINS;
    if (pluginModule) {
      plugins = await pluginModule.loadPlugins(config, container);
      // Added after the store and chain: their implementations close before what they may use.
      cleanup.add('plugins', () => plugins.close());
      // The same checks as `horde config check`, before the role starts anything.
      await plugins.validate();
    }

    const processStore = store;
    return {
      role,
      config: processConfig,
      logger,
      metrics: metrics as OpenedProcess<R>['metrics'],
      clock,
      store: store as OpenedProcess<R>['store'],
      chain: chain as OpenedProcess<R>['chain'],
      objectStore,
      container,
      plugins,
      cleanup,
      openChain: async (signer) => {
        if (!processStore) {
          const { ChainConfigError } = await import('../chain/errors.js');
          throw new ChainConfigError(`a ${role} process has no store, so it opens no chain`);
        }
        return chainOn(processStore, signer);
      },
      close: () => cleanup.close(),
    };
  } catch (error) {
    await cleanup.close();
    throw error;
  }
}
