import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import type { Clock, Logger } from '../../contracts/index.js';
import type { Hotkey } from '../../keys/index.js';
import { DEFAULT_MAX_FRAME_BYTES, encodeMessage, parseFacilitatorToValidator } from '../../protocol/codec.js';
import { createFacilitatorAuth } from '../../protocol/facilitator-auth.js';
import type { V0JobCheated, V2JobRequest, ValidatorToFacilitatorMessage } from '../../protocol/facilitator-messages.js';
import { coreVersion } from '../../version.js';

export interface FacilitatorClientOptions {
  /** `ws(s)://…/ws/v0/` */
  readonly url: string;
  readonly hotkey: Hotkey;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Between `V0Heartbeat`s (ComputeHorde: 60 s). */
  readonly heartbeatMs: number;
  /** Longest wait between reconnection attempts (the waits grow 2, 4, … s up to it). */
  readonly reconnectMaxDelayMs: number;
  /** Time to open the socket and get the answer to the authentication. */
  readonly connectTimeoutMs?: number;
}

export interface FacilitatorClientEvents {
  'job-request': [V2JobRequest];
  'job-cheated': [V0JobCheated];
  /** Authenticated (again); queued messages have been flushed. */
  connected: [];
  disconnected: [{ code: number; reason: string }];
}

/** Messages kept while the facilitator is away, flushed on reconnect; beyond this the oldest go. */
const MAX_QUEUED = 10_000;

/**
 * The validator's connection to the facilitator (`FACILITATOR_URI`): authenticates with a
 * signature over its own public key, sends `V0Heartbeat` every `heartbeatMs`, reconnects with a
 * growing delay when the connection drops or is refused, and hands job requests and cheat
 * reports to the listeners. Status updates sent while disconnected wait in a queue. Every frame
 * from the facilitator is parsed with the protocol's schemas; a bad one is logged and dropped.
 */
export class FacilitatorClient extends EventEmitter<FacilitatorClientEvents> {
  private socket: WebSocket | null = null;
  private authenticated = false;
  private stopped = false;
  private attempts = 0;
  private heartbeat: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private authTimer: NodeJS.Timeout | null = null;
  private readonly queue: ValidatorToFacilitatorMessage[] = [];
  private readonly log: Logger;

  constructor(private readonly options: FacilitatorClientOptions) {
    super();
    this.log = options.logger.child({ component: 'facilitator-client', facilitator: options.url });
  }

  get connected(): boolean {
    return this.authenticated && this.socket?.readyState === WebSocket.OPEN;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    const socket = new WebSocket(this.options.url, {
      maxPayload: DEFAULT_MAX_FRAME_BYTES,
      handshakeTimeout: this.options.connectTimeoutMs ?? 10_000,
      perMessageDeflate: false,
      headers: { 'X-Validator-Version': coreVersion() },
    });
    this.socket = socket;
    this.authenticated = false;
    const authTimer = (this.authTimer = setTimeout(() => {
      if (!this.authenticated) {
        this.log.warn('no answer to the authentication in time');
        socket.terminate();
      }
    }, this.options.connectTimeoutMs ?? 10_000));

    socket.once('open', () => socket.send(encodeMessage(createFacilitatorAuth(this.options.hotkey))));
    socket.on('message', (data, isBinary) => this.receive(socket, isBinary ? (data as Buffer) : data.toString()));
    socket.on('error', (error) => this.log.warn({ err: error.message }, 'facilitator connection error'));
    socket.once('close', (code, reason) => {
      clearTimeout(authTimer);
      this.stopHeartbeat();
      const wasAuthenticated = this.authenticated;
      this.authenticated = false;
      if (this.socket === socket) this.socket = null;
      if (wasAuthenticated) this.emit('disconnected', { code, reason: reason.toString() });
      if (this.stopped) return;
      this.attempts++;
      const delay = Math.min(1000 * 2 ** this.attempts, this.options.reconnectMaxDelayMs);
      this.log.info({ code, reason: reason.toString(), retryInMs: delay }, 'facilitator connection closed; reconnecting');
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
    });
  }

  private receive(socket: WebSocket, frame: string | Buffer): void {
    if (frame === 'PING') return;
    const parsed = parseFacilitatorToValidator(frame);
    if (!parsed.ok) {
      this.log.warn({ err: parsed.error.message }, 'dropped a bad frame from the facilitator');
      return;
    }
    const message = parsed.message;
    if (!('message_type' in message)) {
      // `Response`: to the authentication first, later to status updates.
      if (!this.authenticated) {
        if (message.status === 'success') {
          this.authenticated = true;
          this.attempts = 0;
          if (this.authTimer) clearTimeout(this.authTimer);
          this.log.info({ validatorHotkey: this.options.hotkey.ss58 }, 'authenticated to the facilitator');
          this.startHeartbeat(socket);
          this.flush();
          this.emit('connected');
        } else {
          this.log.error({ errors: message.errors }, 'the facilitator refused this validator');
          socket.close(1000);
        }
      } else if (message.status === 'error') {
        this.log.warn({ errors: message.errors }, 'the facilitator refused a message');
      }
      return;
    }
    if (!this.authenticated) {
      this.log.warn({ messageType: message.message_type }, 'message from the facilitator before authentication; dropped');
      return;
    }
    if (message.message_type === 'V2JobRequest') this.emit('job-request', message);
    else this.emit('job-cheated', message);
  }

  private startHeartbeat(socket: WebSocket): void {
    this.stopHeartbeat();
    this.heartbeat = setInterval(() => {
      if (socket.readyState === WebSocket.OPEN) socket.send(encodeMessage({ message_type: 'V0Heartbeat' }));
    }, this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private flush(): void {
    while (this.queue.length > 0 && this.connected) this.socket!.send(encodeMessage(this.queue.shift()!));
  }

  /** Sends now when connected, else when the connection is back. */
  send(message: ValidatorToFacilitatorMessage): void {
    if (this.connected) {
      this.socket!.send(encodeMessage(message));
      return;
    }
    this.queue.push(message);
    if (this.queue.length > MAX_QUEUED) {
      this.queue.shift();
      this.log.warn('facilitator away too long: dropped the oldest queued message');
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.stopHeartbeat();
    const socket = this.socket;
    if (!socket) return;
    await new Promise<void>((resolve) => {
      if (socket.readyState === WebSocket.CLOSED) return resolve();
      socket.once('close', () => resolve());
      socket.close(1000);
      setTimeout(() => {
        socket.terminate();
        resolve();
      }, 2_000).unref();
    });
  }
}
