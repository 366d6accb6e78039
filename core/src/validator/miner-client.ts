import WebSocket from 'ws';
import type { Clock, Logger, Manifest } from '../contracts/index.js';
import type { Hotkey } from '../keys/index.js';
import {
  createValidatorAuth,
  DEFAULT_MAX_FRAME_BYTES,
  encodeMessage,
  parseMinerToValidator,
  type MinerToValidatorMessage,
  type ValidatorToMinerMessage,
} from '../protocol/index.js';
import { MinerConnectionError, MinerTimeoutError } from './errors.js';

/** Where a miner listens and who it is. */
export interface MinerTarget {
  readonly hotkey: string;
  /** Coldkey from the metagraph; null for the trusted miner (not on chain). */
  readonly coldkey: string | null;
  readonly uid: number | null;
  readonly host: string;
  readonly port: number;
}

export interface ConnectOptions {
  readonly validator: Hotkey;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Time to open the socket, authenticate and receive the manifest. */
  readonly timeoutMs: number;
}

/** Messages the miner sends about one job (they all carry `job_uuid`). */
export type JobMessage = Extract<MinerToValidatorMessage, { job_uuid: string }>;

/** The connection went away before the awaited message came. */
export class ConnectionClosedError extends MinerConnectionError {}

/**
 * The messages of one job, in arrival order, for the code that drives that job. Messages that
 * arrive before anyone waits are queued, so nothing is lost between two waits.
 */
export class JobInbox {
  private readonly queue: JobMessage[] = [];
  private waiter: { resolve: (message: JobMessage) => void; reject: (error: Error) => void } | null = null;
  private closed: Error | null = null;

  push(message: JobMessage): void {
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter.resolve(message);
    } else {
      this.queue.push(message);
    }
  }

  close(error: Error): void {
    this.closed ??= error;
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter.reject(error);
    }
  }

  /** The next message, or rejects with `MinerTimeoutError` after `timeoutMs` (or the close reason). */
  next(timeoutMs: number, what: string): Promise<JobMessage> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closed) return Promise.reject(this.closed);
    return new Promise<JobMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new MinerTimeoutError(`no ${what} within ${Math.round(timeoutMs)} ms`));
      }, Math.max(0, timeoutMs));
      this.waiter = {
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }
}

/**
 * One validator → miner websocket (`/v0.1/validator_interface/{validator}`), shared by every job
 * the validator sends that miner in a batch. It authenticates, keeps the manifest the miner sends
 * in reply, and routes each job's messages to that job's inbox by `job_uuid`. Every frame is
 * parsed with the protocol's zod schemas; a bad frame is logged and dropped.
 */
export class MinerConnection {
  readonly manifest: Manifest;
  private readonly inboxes = new Map<string, JobInbox>();
  private readonly mainHotkeyWaiters: Array<(mainHotkey: string | null) => void> = [];
  private closeReason: Error | null = null;

  private constructor(
    readonly target: MinerTarget,
    private readonly socket: WebSocket,
    manifest: Manifest,
    private readonly logger: Logger,
  ) {
    this.manifest = manifest;
    socket.on('message', (data, isBinary) => this.receive(isBinary ? (data as Buffer) : data.toString()));
    socket.on('close', () => this.shutdown(new ConnectionClosedError(target.hotkey, `miner ${target.hotkey} closed the connection`)));
    socket.on('error', (error) => this.shutdown(new ConnectionClosedError(target.hotkey, `miner ${target.hotkey}: ${error.message}`, { cause: error })));
  }

  static url(target: MinerTarget, validatorHotkey: string): string {
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    return `ws://${host}:${target.port}/v0.1/validator_interface/${validatorHotkey}`;
  }

  /** Connects, authenticates and waits for the manifest. Throws `MinerConnectionError`. */
  static connect(target: MinerTarget, options: ConnectOptions): Promise<MinerConnection> {
    const log = options.logger.child({ minerHotkey: target.hotkey });
    return new Promise<MinerConnection>((resolve, reject) => {
      const socket = new WebSocket(MinerConnection.url(target, options.validator.ss58), {
        maxPayload: DEFAULT_MAX_FRAME_BYTES,
        handshakeTimeout: options.timeoutMs,
        perMessageDeflate: false,
      });
      let settled = false;
      const fail = (message: string, cause?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.removeAllListeners();
        socket.on('error', () => undefined);
        socket.terminate();
        reject(new MinerConnectionError(target.hotkey, message, cause === undefined ? undefined : { cause }));
      };
      const timer = setTimeout(() => fail(`no manifest from miner ${target.hotkey} within ${options.timeoutMs} ms`), options.timeoutMs);

      socket.once('open', () => {
        socket.send(encodeMessage(createValidatorAuth(options.validator, target.hotkey, options.clock.now())));
      });
      socket.on('error', (error) => fail(`cannot reach miner ${target.hotkey} at ${target.host}:${target.port}: ${error.message}`, error));
      socket.on('close', () => fail(`miner ${target.hotkey} closed the connection before sending its manifest`));
      socket.on('message', (data, isBinary) => {
        const parsed = parseMinerToValidator(isBinary ? (data as Buffer) : data.toString());
        if (!parsed.ok) {
          log.warn({ err: parsed.error.message }, 'bad frame from miner before its manifest');
          return;
        }
        const message = parsed.message;
        if (message.message_type === 'V0ExecutorManifestRequest') {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          socket.removeAllListeners();
          resolve(new MinerConnection(target, socket, message.manifest, log));
        } else if (message.message_type === 'UnauthorizedError') {
          fail(`miner ${target.hotkey} refused this validator: ${message.code} ${message.details ?? ''}`.trim());
        } else if (message.message_type === 'GenericError') {
          fail(`miner ${target.hotkey} answered the auth with an error: ${message.details ?? ''}`);
        }
      });
    });
  }

  private receive(frame: string | Buffer): void {
    // ComputeHorde's transport sends "PING" text frames as keep-alives.
    if (frame === 'PING') return;
    const parsed = parseMinerToValidator(frame);
    if (!parsed.ok) {
      this.logger.warn({ err: parsed.error.message }, 'dropped a bad frame from the miner');
      return;
    }
    const message = parsed.message;
    if (parsed.deprecatedAlias) this.logger.info({ alias: parsed.deprecatedAlias }, 'miner sent a deprecated message');
    if ('job_uuid' in message) {
      const inbox = this.inboxes.get(message.job_uuid);
      if (inbox) inbox.push(message);
      else this.logger.debug({ jobUuid: message.job_uuid, messageType: message.message_type }, 'message for a job this validator is not running');
      return;
    }
    switch (message.message_type) {
      case 'V0MainHotkeyMessage':
        for (const waiter of this.mainHotkeyWaiters.splice(0)) waiter(message.main_hotkey ?? null);
        return;
      case 'GenericError':
        this.logger.warn({ details: message.details }, 'miner reported an error');
        return;
      default:
        this.logger.debug({ messageType: message.message_type }, 'ignored miner message');
    }
  }

  private shutdown(reason: Error): void {
    if (this.closeReason) return;
    this.closeReason = reason;
    for (const inbox of this.inboxes.values()) inbox.close(reason);
    for (const waiter of this.mainHotkeyWaiters.splice(0)) waiter(null);
  }

  get closed(): boolean {
    return this.closeReason !== null;
  }

  /** The inbox of `jobUuid`; open it before sending the job's first message. */
  openInbox(jobUuid: string): JobInbox {
    const inbox = new JobInbox();
    if (this.closeReason) inbox.close(this.closeReason);
    this.inboxes.set(jobUuid, inbox);
    return inbox;
  }

  closeInbox(jobUuid: string): void {
    this.inboxes.delete(jobUuid);
  }

  send(message: ValidatorToMinerMessage): void {
    if (this.closeReason) throw this.closeReason;
    this.socket.send(encodeMessage(message));
  }

  /** Asks which hotkey is main this cycle (dancing); null when the miner does not say in time. */
  mainHotkey(timeoutMs: number): Promise<string | null> {
    if (this.closeReason) return Promise.resolve(null);
    return new Promise<string | null>((resolve) => {
      const timer = setTimeout(() => {
        const index = this.mainHotkeyWaiters.indexOf(done);
        if (index >= 0) this.mainHotkeyWaiters.splice(index, 1);
        resolve(null);
      }, timeoutMs);
      const done = (mainHotkey: string | null) => {
        clearTimeout(timer);
        resolve(mainHotkey);
      };
      this.mainHotkeyWaiters.push(done);
      this.send({ message_type: 'V0MainHotkeyMessage', main_hotkey: null });
    });
  }

  close(): void {
    this.shutdown(new ConnectionClosedError(this.target.hotkey, 'connection closed by the validator'));
    this.socket.close(1000);
  }
}
