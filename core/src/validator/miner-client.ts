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
import { MinerConnectionError, MinerProtocolError, MinerTimeoutError } from './errors.js';

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
  /** Gives up the attempt at once (the validator is shutting down). */
  readonly signal?: AbortSignal;
  /** Bounds on each job's queued messages (default `DEFAULT_JOB_INBOX_LIMITS`). */
  readonly inboxLimits?: JobInboxLimits;
}

/** Messages the miner sends about one job (they all carry `job_uuid`). */
export type JobMessage = Extract<MinerToValidatorMessage, { job_uuid: string }>;

/** The connection went away before the awaited message came. */
export class ConnectionClosedError extends MinerConnectionError {}

/**
 * How much of one job's traffic the validator holds while its driver is not waiting. A job has
 * about eight messages in its whole life (accept, ready, volumes ready, execution done, specs,
 * result…), and at most one of them is large (the result, up to a frame), so anything past these
 * bounds is a miner flooding the job: the job ends as a protocol violation instead of growing memory.
 */
export interface JobInboxLimits {
  /** Messages queued at once. Default 32. */
  readonly maxMessages: number;
  /** Bytes (frame sizes) queued at once. Default one maximum frame plus 1 MiB. */
  readonly maxBytes: number;
}

export const DEFAULT_JOB_INBOX_LIMITS: JobInboxLimits = { maxMessages: 32, maxBytes: DEFAULT_MAX_FRAME_BYTES + 1024 * 1024 };

/**
 * The messages of one job, in arrival order, for the code that drives that job. Messages that
 * arrive before anyone waits are queued, so nothing is lost between two waits; the queue is
 * bounded by `JobInboxLimits`, and overflowing it closes the inbox with `MinerProtocolError`
 * (the queue is dropped, the driver's next wait fails).
 */
export class JobInbox {
  private readonly queue: Array<{ message: JobMessage; bytes: number }> = [];
  private queuedBytes = 0;
  private waiter: { resolve: (message: JobMessage) => void; reject: (error: Error) => void } | null = null;
  private closed: Error | null = null;

  constructor(private readonly limits: JobInboxLimits = DEFAULT_JOB_INBOX_LIMITS) {}

  /**
   * Hands `message` (`bytes` long on the wire) to the waiting driver or queues it. Returns the
   * violation when the queue would overflow (the inbox is then closed with it), else null.
   */
  push(message: JobMessage, bytes = 0): MinerProtocolError | null {
    if (this.closed) return null;
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter.resolve(message);
      return null;
    }
    if (this.queue.length + 1 > this.limits.maxMessages || this.queuedBytes + bytes > this.limits.maxBytes) {
      const violation = new MinerProtocolError(
        `miner flooded the job: more than ${this.limits.maxMessages} messages or ${this.limits.maxBytes} bytes queued (protocol violation)`,
      );
      this.queue.length = 0;
      this.queuedBytes = 0;
      this.close(violation);
      return violation;
    }
    this.queue.push({ message, bytes });
    this.queuedBytes += bytes;
    return null;
  }

  close(error: Error): void {
    this.closed ??= error;
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter.reject(error);
    }
  }

  /** The next queued message without waiting, if one is there. */
  poll(): JobMessage | undefined {
    const queued = this.queue.shift();
    if (queued) this.queuedBytes -= queued.bytes;
    return queued?.message;
  }

  /** The next message, or rejects with `MinerTimeoutError` after `timeoutMs` (or the close reason). */
  next(timeoutMs: number, what: string): Promise<JobMessage> {
    const queued = this.queue.shift();
    if (queued) {
      this.queuedBytes -= queued.bytes;
      return Promise.resolve(queued.message);
    }
    if (this.closed) return Promise.reject(this.closed);
    return new Promise<JobMessage>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.waiter = null;
          reject(new MinerTimeoutError(`no ${what} within ${Math.round(timeoutMs)} ms`));
        },
        Math.max(0, timeoutMs),
      );
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
    private readonly inboxLimits: JobInboxLimits,
  ) {
    this.manifest = manifest;
    socket.on('message', (data, isBinary) => this.receive(isBinary ? (data as Buffer) : data.toString(), rawDataBytes(data)));
    socket.on('close', () => this.shutdown(new ConnectionClosedError(target.hotkey, `miner ${target.hotkey} closed the connection`)));
    socket.on('error', (error) =>
      this.shutdown(new ConnectionClosedError(target.hotkey, `miner ${target.hotkey}: ${error.message}`, { cause: error })),
    );
  }

  static url(target: MinerTarget, validatorHotkey: string): string {
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    return `ws://${host}:${target.port}/v0.1/validator_interface/${validatorHotkey}`;
  }

  /** Connects, authenticates and waits for the manifest. Throws `MinerConnectionError`. */
  static connect(target: MinerTarget, options: ConnectOptions): Promise<MinerConnection> {
    const log = options.logger.child({ minerHotkey: target.hotkey });
    const { signal } = options;
    if (signal?.aborted)
      return Promise.reject(new MinerConnectionError(target.hotkey, `not connecting to miner ${target.hotkey}: aborted`));
    return new Promise<MinerConnection>((resolve, reject) => {
      const socket = new WebSocket(MinerConnection.url(target, options.validator.ss58), {
        maxPayload: DEFAULT_MAX_FRAME_BYTES,
        handshakeTimeout: options.timeoutMs,
        perMessageDeflate: false,
      });
      let settled = false;
      const onAbort = () => fail(`gave up connecting to miner ${target.hotkey}: aborted`);
      const fail = (message: string, cause?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.removeAllListeners();
        socket.on('error', () => undefined);
        socket.terminate();
        reject(new MinerConnectionError(target.hotkey, message, cause === undefined ? undefined : { cause }));
      };
      const timer = setTimeout(() => fail(`no manifest from miner ${target.hotkey} within ${options.timeoutMs} ms`), options.timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });

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
          signal?.removeEventListener('abort', onAbort);
          socket.removeAllListeners();
          resolve(new MinerConnection(target, socket, message.manifest, log, options.inboxLimits ?? DEFAULT_JOB_INBOX_LIMITS));
        } else if (message.message_type === 'UnauthorizedError') {
          fail(`miner ${target.hotkey} refused this validator: ${message.code} ${message.details ?? ''}`.trim());
        } else if (message.message_type === 'GenericError') {
          fail(`miner ${target.hotkey} answered the auth with an error: ${message.details ?? ''}`);
        }
      });
    });
  }

  private receive(frame: string | Buffer, bytes: number): void {
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
      if (inbox) {
        const violation = inbox.push(message, bytes);
        if (violation)
          this.logger.warn(
            { jobUuid: message.job_uuid, messageType: message.message_type, ...this.inboxLimits },
            'miner flooded a job with messages; the job ends as a protocol violation',
          );
      } else
        this.logger.debug(
          { jobUuid: message.job_uuid, messageType: message.message_type },
          'message for a job this validator is not running',
        );
      return;
    }
    switch (message.message_type) {
      case 'V0MainHotkeyMessage':
        for (const waiter of this.mainHotkeyWaiters.splice(0)) waiter(message.main_hotkey ?? null);
        return;
      case 'GenericError':
        // Not about one job: a job's own failure is logged on its line ("job did not pass", with its jobUuid).
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
    const inbox = new JobInbox(this.inboxLimits);
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

  /**
   * Ends every waiting job and closes the socket. `immediately` (shutdown) drops the TCP
   * connection at once instead of waiting for the miner to answer the close handshake, which
   * `ws` would otherwise wait up to 30 s for, holding the process open.
   */
  close(options: { immediately?: boolean } = {}): void {
    this.shutdown(new ConnectionClosedError(this.target.hotkey, 'connection closed by the validator'));
    if (options.immediately) this.socket.terminate();
    else this.socket.close(1000);
  }
}

/** Size on the wire of a frame as `ws` hands it over. */
function rawDataBytes(data: WebSocket.RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, chunk) => sum + chunk.length, 0);
  return data.byteLength;
}
