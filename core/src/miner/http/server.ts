import { createServer } from 'node:http';
import websocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Logger, Metrics } from '../../contracts/index.js';
import { DEFAULT_MAX_FRAME_BYTES, encodeMessage } from '../../protocol/codec.js';
import type { ReceiptPages } from '../receipts/pages.js';
import type { PreAuthBudget } from './pre-auth-budget.js';
import { registerReceiptsRoute } from './receipts-route.js';
import type { ReceiptServingTally } from '../receipts/serving-tally.js';

export interface MinerServerHandlers {
  /**
   * A validator opened `/v0.1/validator_interface/{validatorHotkey}` within the pre-auth budget;
   * `preAuth.authenticated()` ends its budget accounting once it has authenticated.
   */
  onValidator(socket: WebSocket, validatorHotkey: string, preAuth: PreAuthGate): void;
  /** An executor opened `/v0.1/executor_interface/{token}`; `remoteAddress` is X-Real-IP or the peer address. */
  onExecutor(socket: WebSocket, token: string, remoteAddress: string): void;
  /** Body of `GET /healthz`. */
  health(): Record<string, unknown>;
}

export interface MinerServerOptions {
  readonly pages: ReceiptPages;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly handlers: MinerServerHandlers;
  /** Bytes and connections unauthenticated validator connections may hold. */
  readonly preAuth: PreAuthBudget;
  /** Counts what the receipt pages served (the dashboard); default: not counted. */
  readonly receiptServing?: ReceiptServingTally;
  /** The clock of `receiptServing`'s times; default `Date.now`. */
  readonly now?: () => number;
}

/** Handed to the validator session: the connection authenticated, stop counting it. */
export interface PreAuthGate {
  authenticated(): void;
}

/**
 * Counts an unauthenticated connection's bytes as they arrive on its TCP socket (before `ws`
 * assembles a frame, so a 45 MiB frame is stopped after the budget, not after 45 MiB) and cuts it
 * off, with a `GenericError` saying why, the moment a budget is exceeded.
 */
function guardUnauthenticated(socket: WebSocket, raw: Socket, address: string, budget: PreAuthBudget): PreAuthGate | null {
  const lease = budget.open(address);
  if (typeof lease === 'string') {
    budget.logRefusal(address, lease);
    refuse(socket, raw, lease);
    return null;
  }
  const onData = (chunk: Buffer) => {
    const over = lease.take(chunk.length);
    if (over === null) return;
    release();
    budget.logRefusal(address, over);
    refuse(socket, raw, over);
  };
  const release = () => {
    raw.off('data', onData);
    lease.end();
  };
  raw.on('data', onData);
  socket.once('close', release);
  return { authenticated: release };
}

/** How long a refused peer has to read why before its connection is dropped. */
const REFUSAL_LINGER_MS = 1000;

/**
 * Says why and ends the connection. Reading stops at once (the kernel's window, not this process,
 * holds what the peer still sends, and `ws` gets nothing more to buffer); the connection is dropped
 * a moment after the explanation went out, so the peer has time to read it before the reset.
 */
function refuse(socket: WebSocket, raw: Socket, details: string): void {
  raw.removeAllListeners('data');
  raw.pause();
  if (socket.readyState !== socket.OPEN) {
    socket.terminate();
    return;
  }
  socket.send(encodeMessage({ message_type: 'GenericError', details }), () => {
    raw.end();
    setTimeout(() => socket.terminate(), REFUSAL_LINGER_MS).unref();
  });
}

/** Longest a peer may take to send its request headers (the websocket upgrade request included). */
export const HEADERS_TIMEOUT_MS = 10_000;
/** Longest a peer may take to send a whole request (the miner takes no request bodies). */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * The miner's one port: both websockets, the receipt pages, `/metrics` and `/healthz` (ComputeHorde
 * puts nginx and Django Channels behind one port; here fastify with @fastify/websocket does it).
 */
export async function createMinerServer(options: MinerServerOptions): Promise<FastifyInstance> {
  const logger: FastifyBaseLogger = options.logger.child({ component: 'http' });
  // One line per request would drown the job events (validators poll receipt pages every few seconds).
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    // Slowloris: a peer that dribbles its request headers holds a socket until Node's headers
    // timeout (60 s, checked every 30 s); thousands of them would exhaust the miner's descriptors.
    // Honest validators and executors send their upgrade request at once.
    serverFactory: (handler) =>
      createServer({ headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1_000 }, handler),
  });
  // ComputeHorde's transport allows 50 MiB messages (inline volumes, large outputs).
  await app.register(websocket, { options: { maxPayload: DEFAULT_MAX_FRAME_BYTES } });

  app.get<{ Params: { hotkey: string } }>('/v0.1/validator_interface/:hotkey', { websocket: true }, (socket, request) => {
    // The peer's own address: X-Real-IP is the client's word and would let it pick its budget.
    const gate = guardUnauthenticated(socket, request.raw.socket, request.raw.socket.remoteAddress ?? 'unknown', options.preAuth);
    if (gate) options.handlers.onValidator(socket, request.params.hotkey, gate);
  });
  app.get<{ Params: { token: string } }>('/v0.1/executor_interface/:token', { websocket: true }, (socket, request) => {
    const realIp = request.headers['x-real-ip'];
    const remote = (typeof realIp === 'string' && realIp) || request.ip;
    options.handlers.onExecutor(socket, request.params.token, remote);
  });

  registerReceiptsRoute(app, options.pages, options.receiptServing, options.now);

  app.get('/metrics', async (_request, reply) => {
    const body = await options.metrics.metrics();
    return reply.type(options.metrics.contentType).send(body);
  });
  app.get('/healthz', async () => ({ status: 'ok', ...options.handlers.health() }));

  return app;
}
