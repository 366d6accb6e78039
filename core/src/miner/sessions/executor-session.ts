import type { WebSocket } from 'ws';
import type { Logger } from '../../contracts/index.js';
import { encodeMessage, parseExecutorToMiner } from '../../protocol/codec.js';
import type { MinerToExecutorMessage } from '../../protocol/messages.js';
import type { ActiveJob, ExecutorPeer } from '../jobs/active-job.js';
import type { JobHub } from '../jobs/job-hub.js';
import type { MinerMetrics } from '../metrics.js';

/**
 * One executor's websocket, `/v0.1/executor_interface/{token}` (ComputeHorde's
 * `MinerExecutorConsumer`). The token is the only credential: single-use, valid only while its job
 * waits for an executor. On connect the executor gets the job's initial request; what it sends is
 * parsed and handed to the hub, which relays it to the validator.
 */
export class ExecutorSession implements ExecutorPeer {
  private work: Promise<void> = Promise.resolve();

  constructor(
    private readonly socket: WebSocket,
    private readonly job: ActiveJob,
    private readonly hub: JobHub,
    private readonly remoteAddress: string,
    private readonly logger: Logger,
    private readonly metrics?: MinerMetrics,
  ) {}

  /** Refuses a connection whose token is unknown, used or expired. */
  static refuse(socket: WebSocket, details: string, logger: Logger): void {
    logger.warn({ details }, 'executor connection refused');
    socket.send(encodeMessage({ message_type: 'GenericError', details }), () => socket.close(1000, 'unknown token'));
  }

  start(): void {
    const log = this.logger.child({ jobUuid: this.job.jobUuid, validatorHotkey: this.job.validatorHotkey });
    this.socket.on('message', (data, isBinary) => {
      const frame = isBinary ? (data as Buffer) : data.toString();
      this.work = this.work
        .then(async () => {
          const parsed = parseExecutorToMiner(frame as string | Buffer);
          if (!parsed.ok) {
            if (parsed.error.code === 'PING') return;
            log.warn({ err: parsed.error }, 'bad message from executor');
            this.metrics?.badFrames.inc({ peer: 'executor' });
            // Answered as the validator interface answers one; the job goes on.
            await this.send({ message_type: 'GenericError', details: `Malformed message: ${parsed.error.message}` });
            return;
          }
          if (parsed.deprecatedAlias) log.warn({ alias: parsed.deprecatedAlias }, 'executor sent a deprecated message');
          try {
            await this.hub.executorMessage(this.job, parsed.message, this.remoteAddress);
          } catch (error) {
            log.error({ err: error, messageType: parsed.message.message_type }, 'failed to handle executor message');
          }
        })
        .catch((error: unknown) => log.error({ err: error }, 'failed to handle an executor frame'));
    });
    this.socket.on('close', (code) => {
      log.info({ code }, 'executor disconnected');
      // After the messages already received, so a final result sent just before closing counts.
      this.work = this.work
        .then(() => this.hub.executorDisconnected(this.job, code))
        .catch((error: unknown) => {
          log.error({ err: error }, 'failed to handle executor disconnect');
        });
    });
    this.socket.on('error', (error) => log.warn({ err: error }, 'executor connection error'));
    this.work = this.work
      .then(() => this.hub.executorConnected(this.job, this, this.remoteAddress))
      .catch((error: unknown) => {
        log.error({ err: error }, 'failed to hand the job to the executor');
      });
  }

  send(message: MinerToExecutorMessage): Promise<boolean> {
    if (this.socket.readyState !== this.socket.OPEN) return Promise.resolve(false);
    return new Promise((resolve) => this.socket.send(encodeMessage(message), (error) => resolve(!error)));
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }
}
