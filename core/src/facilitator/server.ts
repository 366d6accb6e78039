import websocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Chain, Clock, Logger, Metrics, Store } from '../contracts/index.js';
import type { FacilitatorSection } from '../config/sections/facilitator.js';
import { ValidatorDirectory } from '../chain/validator-directory.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../protocol/codec.js';
import { SystemClock } from '../time/clock.js';
import { registerHttpApi } from './http-api.js';
import { registerFacilitatorMetrics } from './metrics.js';
import { FacilitatorStore } from './store.js';
import { JobUpdateSignal } from './job-updates.js';
import { ValidatorHub } from './validator-hub.js';
import { FacilitatorWorkers } from './workers/pool.js';
import { definedFields } from '../object/defined-fields.js';

export interface FacilitatorDeps {
  /** The `facilitator` config section (defaults filled in). */
  readonly settings: FacilitatorSection;
  readonly store: Store;
  /** Where the validator set comes from (metagraph: validator permits and stake). */
  readonly chain: Chain;
  readonly netuid: number;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Listen (default true); false builds the app for `inject()` only. */
  readonly listen?: boolean;
  /** The process registry: the facilitator's metrics are registered on it and served at `/metrics`. */
  readonly metrics?: Metrics;
}

export interface FacilitatorHandle {
  readonly app: FastifyInstance;
  readonly hub: ValidatorHub;
  readonly store: FacilitatorStore;
  /** `http://host:port` once listening; null with `listen: false`. */
  readonly url: string | null;
  readonly port: number | null;
  /** This process's part of a worker pool (`settings.workers.enabled`), or null for a single process. */
  readonly workers: FacilitatorWorkers | null;
  /** Settles with the error when the facilitator cannot go on (a worker lost its PostgreSQL session); never for a single process. */
  readonly failed: Promise<Error>;
  close(): Promise<void>;
}

/**
 * Starts the facilitator: the clients' HTTP API under `/api/v1/` and the validators' websocket at
 * `/ws/v0/` on one port. The store and chain are the caller's (not closed here).
 */
export async function createFacilitator(options: FacilitatorDeps): Promise<FacilitatorHandle> {
  const { settings } = options;
  const clock = options.clock ?? new SystemClock();
  // Bound to `{ role }` by the process (`openProcess`); binding it again would print it twice.
  const baseLogger = options.logger;
  const store = new FacilitatorStore(options.store);
  const tokenSecret = settings.tokenSecret ?? (await store.tokenSecret());
  if (settings.hotkeyWhitelist.length === 0)
    baseLogger.warn('facilitator.hotkeyWhitelist is empty: no client can log in (list hotkeys, or "*" for any)');
  const workers = settings.workers.enabled
    ? await FacilitatorWorkers.open({ store: options.store, settings: settings.workers, logger: baseLogger, clock })
    : null;
  // A worker's lines say which worker (its claim id, its process) did what.
  const logger = workers ? baseLogger.child({ workerPid: workers.pid, pid: process.pid }) : baseLogger;

  const directory = new ValidatorDirectory({
    chain: options.chain,
    netuid: options.netuid,
    minStake: settings.minValidatorStake,
    debugAllowed: [],
    localModeValidator: null,
    refreshMs: settings.metagraphRefreshSeconds * 1000,
    clock,
    logger,
  });
  // From here on a failed start gives the worker's PostgreSQL session back (the store stays the caller's).
  try {
    const updates = new JobUpdateSignal();
    const failed = new Promise<Error>((resolve) => workers?.onSessionLost(resolve));
    const hub = new ValidatorHub({
      store,
      directory,
      clock,
      logger,
      livenessMs: settings.validatorLivenessSeconds * 1000,
      authTimeoutMs: settings.authTimeoutSeconds * 1000,
      ...definedFields({ workers: workers ?? undefined }),
      updates,
    });

    const httpLogger: FastifyBaseLogger = logger.child({ component: 'http' });
    const app = Fastify({
      loggerInstance: httpLogger,
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: settings.bodyLimitBytes,
      routerOptions: { ignoreTrailingSlash: true },
    });
    await app.register(websocket, { options: { maxPayload: DEFAULT_MAX_FRAME_BYTES } });
    app.get('/ws/v0/', { websocket: true }, (socket) => hub.accept(socket));
    registerHttpApi(app, { settings, store, hub, directory, tokenSecret, clock, logger, updates });
    const metrics = options.metrics;
    if (metrics) {
      registerFacilitatorMetrics(metrics, store, hub);
      app.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));
    }

    let url: string | null = null;
    let port: number | null = null;
    // Sweeps start before listening: jobs of validators that connect here go out from the first poll.
    await workers?.start(hub, store, updates);
    if (options.listen !== false) {
      await app.listen({ host: settings.host, port: settings.port });
      const address = app.server.address();
      port = typeof address === 'object' && address !== null ? address.port : settings.port;
      const host = settings.host === '0.0.0.0' || settings.host === '::' ? '127.0.0.1' : settings.host;
      url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
      logger.info({ url, port }, 'facilitator listening');
    } else {
      await app.ready();
    }

    return {
      app,
      hub,
      store,
      url,
      port,
      workers,
      failed,
      async close() {
        await workers?.close();
        hub.close();
        await app.close();
      },
    };
  } catch (error) {
    await workers?.close();
    throw error;
  }
}
