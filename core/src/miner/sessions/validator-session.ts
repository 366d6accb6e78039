import type { RawData, WebSocket } from 'ws';
import type { Logger } from '../../contracts/index.js';
import { authErrorReply, type AuthVerifier } from '../../protocol/auth.js';
import { DEFAULT_MAX_FRAME_BYTES, encodeMessage, parseValidatorToMiner } from '../../protocol/codec.js';
import type { MinerToValidatorMessage, ValidatorAuthForMiner, ValidatorToMinerMessage } from '../../protocol/messages.js';
import type { HotkeyManifests } from '../hotkey-manifests.js';
import type { ValidatorPeer } from '../jobs/active-job.js';
import type { JobHub } from '../jobs/job-hub.js';
import type { MinerMetrics } from '../metrics.js';
import type { ReceiptService } from '../receipts/receipt-service.js';
import type { MinerStore } from '../store/index.js';
import type { ValidatorDirectory } from '../../chain/validator-directory.js';
import type { PreAuthGate } from '../http/server.js';

/** Messages kept while the validator has not authenticated yet; more than this closes the connection. */
const MAX_MESSAGES_BEFORE_AUTH = 100;
/** Default bound on the bytes a connection may send before it authenticates: one maximum frame. */
export const DEFAULT_MAX_BYTES_BEFORE_AUTH = DEFAULT_MAX_FRAME_BYTES;
/** The auth message is a few hundred bytes; a larger frame before auth is never parsed. */
const MAX_AUTH_FRAME_BYTES = 16 * 1024;

export interface ValidatorSessionDeps {
  readonly hub: JobHub;
  readonly verifier: AuthVerifier;
  readonly directory: ValidatorDirectory;
  readonly manifests: HotkeyManifests;
  /** Null in local mode. */
  readonly receipts: ReceiptService | null;
  readonly store: MinerStore;
  /** Local mode: any `miner_hotkey` is accepted (a trusted miner is addressed by a placeholder key). */
  readonly localMode: boolean;
  /** A connection still unauthenticated after this long is closed (it would hold a socket and its queue). */
  readonly authTimeoutMs: number;
  /**
   * Bytes of frames an unauthenticated connection may send in all (queued or waiting to be
   * handled); more closes it. Default `DEFAULT_MAX_BYTES_BEFORE_AUTH` (one maximum frame).
   */
  readonly maxBytesBeforeAuth?: number;
  /** Told when the connection authenticated, so the server's pre-auth budget stops counting it. */
  readonly preAuth?: PreAuthGate;
  readonly logger: Logger;
  /** Counts refused connections and bad frames (absent in unit tests that do not look). */
  readonly metrics?: MinerMetrics;
}

let nextSessionId = 1;

/**
 * What is still handled when the validator closed its socket with frames queued: receipts (a
 * validator often sends its last ones and closes at once) and errors (logged). The auth itself is
 * always handled, since a receipt is only taken from an authenticated connection.
 */
const HANDLED_AFTER_PEER_CLOSE: ReadonlySet<ValidatorToMinerMessage['message_type']> = new Set([
  'V0JobAcceptedReceiptRequest',
  'V0JobFinishedReceiptRequest',
  'GenericError',
]);

/**
 * One validator's websocket, `/v0.1/validator_interface/{validator_hotkey}` (ComputeHorde's
 * `MinerValidatorConsumer`). The first message must be `ValidatorAuthForMiner`; anything that
 * arrives before it is queued, unparsed, and handled after a successful auth, as the original does. Frames
 * are handled one at a time, in order. A bad frame gets a `GenericError` reply and changes nothing.
 */
export class ValidatorSession implements ValidatorPeer {
  readonly id = nextSessionId++;
  private authenticated = false;
  /** The miner decided to end the connection: nothing more from this peer is handled. */
  private closed = false;
  /**
   * The validator's socket closed. Frames that arrived before the close are still handled
   * (receipts must not be lost), but nothing is sent and no new job is taken for it.
   */
  private peerGone = false;
  private minerHotkey: string | null = null;
  /** Frames received before the auth, unparsed: a stranger's input is not even read. */
  private readonly queue: (string | Buffer)[] = [];
  private work: Promise<void> = Promise.resolve();
  private authTimer: NodeJS.Timeout | null = null;
  /** Bytes received while not authenticated: what an unknown peer makes this process hold. */
  private bytesBeforeAuth = 0;
  private readonly log: Logger;

  constructor(
    private readonly socket: WebSocket,
    readonly validatorHotkey: string,
    private readonly deps: ValidatorSessionDeps,
  ) {
    this.log = deps.logger.child({ validatorHotkey, connection: this.id });
  }

  start(): void {
    this.deps.hub.peerOpened(this);
    this.log.info('validator connected');
    this.socket.on('message', (data, isBinary) => {
      // Once the miner decided to close, nothing more from this peer is kept or handled.
      if (this.closed) return;
      if (!this.authenticated) {
        this.bytesBeforeAuth += rawDataBytes(data);
        const limit = this.deps.maxBytesBeforeAuth ?? DEFAULT_MAX_BYTES_BEFORE_AUTH;
        if (this.bytesBeforeAuth > limit) {
          this.deps.metrics?.validatorAuthRefused.inc({ reason: 'too_much_data_before_auth' });
          this.refuse(
            `Validator sent more than ${limit} bytes before authenticating`,
            { bytes: this.bytesBeforeAuth, limit },
            'too much data before authentication; closing',
          );
          return;
        }
      }
      const frame = isBinary ? (data as Buffer) : data.toString();
      this.work = this.work
        .then(() => this.onFrame(frame as string | Buffer))
        .catch((error: unknown) => this.log.error({ err: error }, 'failed to handle a validator frame'));
    });
    this.authTimer = setTimeout(() => {
      this.work = this.work
        .then(async () => {
          if (this.authenticated || this.closed) return;
          this.log.warn({ timeoutMs: this.deps.authTimeoutMs }, 'validator did not authenticate in time; closing');
          this.deps.metrics?.validatorAuthRefused.inc({ reason: 'auth_timeout' });
          await this.send({
            message_type: 'GenericError',
            details: `Validator did not authenticate within ${this.deps.authTimeoutMs / 1000} s`,
          });
          await this.closeWith('authentication timeout');
        })
        .catch((error: unknown) => this.log.error({ err: error }, 'failed to close an unauthenticated connection'));
    }, this.deps.authTimeoutMs);
    this.authTimer.unref();
    this.socket.on('close', (code) => {
      this.clearAuthTimer();
      this.peerGone = true;
      this.deps.hub.peerClosed(this);
      this.log.info({ code }, 'validator disconnected');
    });
    this.socket.on('error', (error) => this.log.warn({ err: error }, 'validator connection error'));
  }

  isReady(): boolean {
    return this.authenticated && !this.closed && !this.peerGone && this.socket.readyState === this.socket.OPEN;
  }

  send(message: MinerToValidatorMessage): Promise<boolean> {
    if (this.closed || this.peerGone || this.socket.readyState !== this.socket.OPEN) return Promise.resolve(false);
    return new Promise((resolve) => this.socket.send(encodeMessage(message), (error) => resolve(!error)));
  }

  private async onFrame(frame: string | Buffer): Promise<void> {
    if (this.closed) return;
    // Before the auth only the auth message itself is parsed; anything else waits, unread.
    if (!this.authenticated && !mayBeAuthMessage(frame)) {
      await this.holdUntilAuth(frame);
      return;
    }
    const parsed = parseValidatorToMiner(frame);
    if (!parsed.ok) {
      if (parsed.error.code === 'PING') return;
      this.log.warn({ err: parsed.error, messageType: parsed.error.messageType }, 'bad message from validator');
      this.deps.metrics?.badFrames.inc({ peer: 'validator' });
      await this.send({ message_type: 'GenericError', details: `Malformed message: ${parsed.error.message}` });
      return;
    }
    try {
      await this.handle(parsed.message);
    } catch (error) {
      // A handler bug must not take the connection (or the miner) down; the validator hears of it.
      this.log.error({ err: error, messageType: parsed.message.message_type }, 'failed to handle validator message');
      await this.send({ message_type: 'GenericError', details: `miner error handling ${parsed.message.message_type}` });
    }
  }

  private async handle(msg: ValidatorToMinerMessage): Promise<void> {
    if (msg.message_type === 'ValidatorAuthForMiner') {
      await this.authenticate(msg);
      return;
    }
    // Reached before the auth only by a frame that named the auth message but was something else.
    if (!this.authenticated) return;
    const minerHotkey = this.minerHotkey!;
    const { hub, receipts, store } = this.deps;
    const sender = { validatorHotkey: this.validatorHotkey, minerHotkey };
    if (this.peerGone && !HANDLED_AFTER_PEER_CLOSE.has(msg.message_type)) {
      // Nobody is left to hear the answer; an executor reserved now would only wait out its timeout.
      this.log.info({ messageType: msg.message_type }, 'validator disconnected before this message was handled; dropped');
      return;
    }
    switch (msg.message_type) {
      case 'V0InitialJobRequest':
        await hub.initialJobRequest(this, minerHotkey, msg);
        return;
      case 'V0JobRequest': {
        const error = await hub.jobRequest(this, msg);
        if (error) {
          this.log.warn({ jobUuid: msg.job_uuid }, error);
          await this.send({ message_type: 'GenericError', details: error });
        }
        return;
      }
      case 'V0JobAcceptedReceiptRequest':
      case 'V0JobFinishedReceiptRequest': {
        const jobUuid = msg.payload.job_uuid;
        const job = await store.jobs.get(jobUuid);
        // Receipts are unique per job and type: one from another validator would take the place
        // of the real one (and its score would land on the job), so only the job's own validator's count.
        if (job && job.validatorHotkey !== this.validatorHotkey) {
          this.log.warn(
            { jobUuid, jobValidatorHotkey: job.validatorHotkey, receiptType: msg.payload.receipt_type },
            'receipt for a job another validator sent; dropped',
          );
          return;
        }
        // In local mode (no receipts kept) the job's own validator is the only one that can connect.
        const taken = receipts ? (await receipts.accept(msg.payload, msg.signature, sender)).ok : true;
        if (taken && job && msg.message_type === 'V0JobFinishedReceiptRequest') {
          await store.jobs.update(jobUuid, { timeTookUs: msg.payload.time_took_us, scoreStr: msg.payload.score_str });
        }
        return;
      }
      case 'V0MainHotkeyMessage': {
        const main = await this.deps.manifests.mainHotkey();
        this.log.info({ mainHotkey: main }, 'main hotkey requested');
        await this.send({ message_type: 'V0MainHotkeyMessage', main_hotkey: main });
        return;
      }
      case 'GenericError':
        // Says nothing about whether a job is dead; just note it.
        this.log.error({ details: msg.details }, 'validator reported an error');
        return;
    }
  }

  private async authenticate(msg: ValidatorAuthForMiner): Promise<void> {
    const { verifier, directory, manifests, hub, store, localMode } = this.deps;
    const served = manifests.hotkeys;
    if (!localMode && !served.includes(msg.miner_hotkey)) {
      this.log.warn({ minerHotkey: msg.miner_hotkey }, 'validator authenticated for a hotkey this miner does not serve');
      this.deps.metrics?.validatorAuthRefused.inc({ reason: 'wrong_miner_hotkey' });
      await this.send({
        message_type: 'GenericError',
        details: `Validator not authenticated due to: wrong miner hotkey (${msg.miner_hotkey} is not served here)`,
      });
      await this.closeWith('not authenticated');
      return;
    }
    const result = await verifier.verify(msg, this.validatorHotkey);
    if (this.closed) return; // refused (e.g. flooded) while the auth was being checked
    if (!result.ok) {
      this.log.warn({ code: result.error.code, reason: result.error.message }, 'validator authentication refused');
      this.deps.metrics?.validatorAuthRefused.inc({ reason: result.error.code.toLowerCase() });
      await this.send(authErrorReply(result.error));
      await this.closeWith('not authenticated');
      return;
    }
    // A trusted miner is addressed with a placeholder key; its receipts (none) and streaming
    // signatures use the main hotkey.
    this.minerHotkey = served.includes(msg.miner_hotkey) ? msg.miner_hotkey : served[0]!;
    this.authenticated = true;
    this.clearAuthTimer();
    this.deps.preAuth?.authenticated();
    this.log.info({ minerHotkey: this.minerHotkey }, 'validator authenticated');
    await store.validators.seen(this.validatorHotkey, directory.isDebug(this.validatorHotkey));
    await this.send({ message_type: 'V0ExecutorManifestRequest', manifest: await manifests.forHotkey(this.minerHotkey) });
    // A connection already gone must not take over (and then hold) the validator's jobs.
    if (!this.peerGone) hub.attach(this);
    for (const queued of this.queue.splice(0)) await this.onFrame(queued);
  }

  private async holdUntilAuth(frame: string | Buffer): Promise<void> {
    if (this.queue.length >= MAX_MESSAGES_BEFORE_AUTH) {
      this.log.warn('too many messages before authentication; closing');
      this.deps.metrics?.validatorAuthRefused.inc({ reason: 'too_many_messages_before_auth' });
      await this.closeWith('too many messages before authentication');
      return;
    }
    this.queue.push(frame);
  }

  private clearAuthTimer(): void {
    if (this.authTimer) clearTimeout(this.authTimer);
    this.authTimer = null;
  }

  private async closeWith(reason: string): Promise<void> {
    this.closed = true;
    this.socket.close(1000, reason);
  }

  /**
   * Ends the connection from the frame handler at once (no waiting behind queued frames): a
   * `GenericError` saying why, then the close. Later frames are dropped unread.
   */
  private refuse(details: string, fields: Record<string, unknown>, logMessage: string): void {
    if (this.closed) return;
    this.log.warn(fields, logMessage);
    this.clearAuthTimer();
    this.closed = true;
    this.queue.length = 0;
    const socket = this.socket;
    if (socket.readyState !== socket.OPEN) return;
    socket.send(encodeMessage({ message_type: 'GenericError', details }), () => socket.close(1000, 'protocol violation'));
  }
}

/** A cheap look, no parsing: small, and names the auth message type. */
function mayBeAuthMessage(frame: string | Buffer): boolean {
  const bytes = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length;
  return bytes <= MAX_AUTH_FRAME_BYTES && frame.includes('ValidatorAuthForMiner');
}

/** Size of a frame as `ws` hands it over. */
function rawDataBytes(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, chunk) => sum + chunk.length, 0);
  return data.byteLength;
}
