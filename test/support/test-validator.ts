/**
 * A validator for miner tests, written from the ComputeHorde v0.1 protocol (message shapes, auth
 * blob, receipt signing), not from the miner's code: it connects to
 * `/v0.1/validator_interface/{hotkey}`, authenticates, and offers the steps of a job one by one so a
 * test can check each answer.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import type { Hotkey } from '../../core/src/keys/index.js';
import {
  createJobAcceptedReceipt,
  createJobFinishedReceipt,
  createJobStartedReceipt,
  createValidatorAuth,
  encodeMessage,
  parseMinerToValidator,
  utcNowPydantic,
  type MinerToValidatorMessage,
  type V0InitialJobRequest,
  type V0JobRequest,
  type ValidatorToMinerMessage,
} from '../../core/src/protocol/index.js';
import type { JobStartedReceiptPayload, Receipt } from '../../core/src/contracts/index.js';

type MessageOf<T extends MinerToValidatorMessage['message_type']> = Extract<MinerToValidatorMessage, { message_type: T }>;

export interface ConnectOptions {
  /** Miner base URL, http://host:port or ws://host:port. */
  readonly url: string;
  readonly validator: Hotkey;
  /** The miner hotkey to authenticate for. */
  readonly minerHotkey: string;
  /** Send the auth message (default true); false lets a test send something else first. */
  readonly authenticate?: boolean;
}

export class TestValidator {
  /** Every message received, in order (the test reads them with `next`). */
  readonly received: MinerToValidatorMessage[] = [];
  private cursor = 0;
  private waiters: (() => void)[] = [];
  closed = false;
  closeCode: number | null = null;

  private constructor(
    private readonly socket: WebSocket,
    readonly hotkey: Hotkey,
    readonly minerHotkey: string,
  ) {
    socket.on('message', (data) => {
      const parsed = parseMinerToValidator(data.toString());
      if (!parsed.ok) throw new Error(`miner sent a message the protocol does not allow: ${parsed.error.message}`);
      this.received.push(parsed.message);
      this.wake();
    });
    socket.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
      this.wake();
    });
  }

  static async connect(options: ConnectOptions): Promise<TestValidator> {
    const base = options.url.replace(/^http/, 'ws').replace(/\/+$/, '');
    const socket = new WebSocket(`${base}/v0.1/validator_interface/${options.validator.ss58}`);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const client = new TestValidator(socket, options.validator, options.minerHotkey);
    if (options.authenticate ?? true) await client.send(createValidatorAuth(options.validator, options.minerHotkey));
    return client;
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  async send(message: ValidatorToMinerMessage): Promise<void> {
    await new Promise<void>((resolve, reject) => this.socket.send(encodeMessage(message), (error) => (error ? reject(error) : resolve())));
  }

  /** Sends raw text (malformed-input tests). */
  async sendRaw(text: string): Promise<void> {
    await new Promise<void>((resolve, reject) => this.socket.send(text, (error) => (error ? reject(error) : resolve())));
  }

  /** The next message not yet read, waiting up to `timeoutMs`. */
  async next(timeoutMs = 10_000): Promise<MinerToValidatorMessage> {
    const deadline = Date.now() + timeoutMs;
    while (this.cursor >= this.received.length) {
      if (this.closed) throw new Error(`connection closed (code ${this.closeCode}) while waiting for a message`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message from the miner within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received[this.cursor++]!;
  }

  /** The next message, which must be of `type` (for `jobUuid` when given); anything else fails the test. */
  async expect<T extends MinerToValidatorMessage['message_type']>(type: T, jobUuid?: string, timeoutMs = 10_000): Promise<MessageOf<T>> {
    const message = await this.next(timeoutMs);
    if (message.message_type !== type) {
      throw new Error(`expected ${type}, got ${message.message_type}: ${JSON.stringify(message).slice(0, 500)}`);
    }
    if (jobUuid !== undefined && 'job_uuid' in message && message.job_uuid !== jobUuid) {
      throw new Error(`expected ${type} for ${jobUuid}, got one for ${message.job_uuid}`);
    }
    return message as MessageOf<T>;
  }

  /** Waits until the connection closes. */
  async closedByPeer(timeoutMs = 10_000): Promise<number | null> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('the miner did not close the connection');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.closeCode;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.socket.close(1000);
    await closed;
  }

  // ---------------------------------------------------------------- job steps

  /** A signed started receipt for a new job (ttl = reservation window, 7 s for organic jobs). */
  startedReceipt(
    jobUuid: string,
    executorClass: string,
    options: { ttl?: number; isOrganic?: boolean; timestamp?: string } = {},
  ): Receipt<JobStartedReceiptPayload> {
    return createJobStartedReceipt(
      {
        jobUuid,
        minerHotkey: this.minerHotkey,
        executorClass,
        isOrganic: options.isOrganic ?? true,
        ttl: options.ttl ?? 7,
        ...(options.timestamp ? { timestamp: options.timestamp } : {}),
      },
      this.hotkey,
    );
  }

  /** Sends `V0InitialJobRequest` with a fresh started receipt; returns the job uuid and the receipt. */
  async initialJobRequest(
    fields: Omit<V0InitialJobRequest, 'message_type' | 'job_uuid' | 'job_started_receipt_payload' | 'job_started_receipt_signature'> & {
      job_uuid?: string;
      receiptTtl?: number;
    },
  ): Promise<{ jobUuid: string; receipt: Receipt<JobStartedReceiptPayload> }> {
    const { receiptTtl, job_uuid, ...rest } = fields;
    const jobUuid = job_uuid ?? randomUUID();
    const receipt = this.startedReceipt(jobUuid, fields.executor_class, { ttl: receiptTtl ?? 7 });
    await this.send({
      message_type: 'V0InitialJobRequest',
      job_uuid: jobUuid,
      ...rest,
      job_started_receipt_payload: receipt.payload,
      job_started_receipt_signature: receipt.validator_signature,
    });
    return { jobUuid, receipt };
  }

  async acceptedReceipt(jobUuid: string, ttl: number): Promise<Receipt> {
    const receipt = createJobAcceptedReceipt({ jobUuid, minerHotkey: this.minerHotkey, timeAccepted: utcNowPydantic(), ttl }, this.hotkey);
    await this.send({ message_type: 'V0JobAcceptedReceiptRequest', payload: receipt.payload, signature: receipt.validator_signature });
    return receipt;
  }

  async finishedReceipt(jobUuid: string, timeStarted: string, timeTookUs: number, score: number): Promise<Receipt> {
    const receipt = createJobFinishedReceipt({ jobUuid, minerHotkey: this.minerHotkey, timeStarted, timeTookUs, score }, this.hotkey);
    await this.send({ message_type: 'V0JobFinishedReceiptRequest', payload: receipt.payload, signature: receipt.validator_signature });
    return receipt;
  }

  async jobRequest(fields: Omit<V0JobRequest, 'message_type'>): Promise<void> {
    await this.send({ message_type: 'V0JobRequest', ...fields });
  }
}
