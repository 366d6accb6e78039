import { container as globalContainer, type DependencyContainer } from './di.js';
import {
  CHAIN,
  CLOCK,
  createToken,
  LOGGER,
  METRICS,
  OBJECT_STORE,
  STORE,
  type Chain,
  type Clock,
  type Logger,
  type Metrics,
  type ObjectStore,
  type Store,
} from '../contracts/index.js';
import type { HordeConfig } from '../config/index.js';

/** The loaded config, for the runtime (plugins get their own section as `ctx.config` instead). */
export const CONFIG = createToken<HordeConfig>('Config');

export interface RuntimeServices {
  readonly config: HordeConfig;
  readonly logger: Logger;
  /** Absent in a process that serves no `/metrics` (an executor). */
  readonly metrics?: Metrics;
  readonly clock: Clock;
  /** Absent in commands that need no database (`horde plugins list`, `horde config check`). */
  readonly store?: Store;
  readonly chain?: Chain;
  readonly objectStore?: ObjectStore;
}

/**
 * The root container of one horde process: the infrastructure every plugin may `ctx.resolve`.
 * It is a child of tsyringe's global container, so two runtimes in one process (tests, the devnet)
 * never see each other's registrations. Plugins get child containers of this one.
 */
export function createRuntimeContainer(services: RuntimeServices): DependencyContainer {
  const root = globalContainer.createChildContainer();
  root.register(CONFIG, { useValue: services.config });
  root.register(LOGGER, { useValue: services.logger });
  if (services.metrics) root.register(METRICS, { useValue: services.metrics });
  root.register(CLOCK, { useValue: services.clock });
  if (services.store) root.register(STORE, { useValue: services.store });
  if (services.chain) root.register(CHAIN, { useValue: services.chain });
  if (services.objectStore) root.register(OBJECT_STORE, { useValue: services.objectStore });
  return root;
}
