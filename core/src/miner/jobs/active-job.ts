import type { MinerToValidatorMessage, V0InitialJobRequest, V0JobRequest } from '../../protocol/messages.js';
import type { MinerJobStatus } from '../store/jobs.js';

/** Where the hub delivers a job's messages for its validator: one validator websocket. */
export interface ValidatorPeer {
  readonly validatorHotkey: string;
  readonly id: number;
  /** Authenticated and still open. */
  isReady(): boolean;
  /** Sends one message; resolves false when it could not be written (the connection went away). */
  send(message: MinerToValidatorMessage): Promise<boolean>;
}

/** The executor websocket of a job, once the executor connected with the job's token. */
export interface ExecutorPeer {
  send(message: V0InitialJobRequest | V0JobRequest): Promise<boolean>;
  close(code: number, reason: string): void;
}

/**
 * A job the miner is working on, in memory: what the websockets need that the database row does
 * not hold (who to deliver to, what is still undelivered, the executor's connection). The row in
 * `miner_jobs` is the durable record; this object lives until the job ended and its result reached
 * the validator.
 */
export interface ActiveJob {
  readonly jobUuid: string;
  readonly validatorHotkey: string;
  readonly minerHotkey: string;
  readonly executorClass: string;
  readonly token: string;
  readonly initialRequest: V0InitialJobRequest;
  readonly acceptedAt: number;
  status: MinerJobStatus;
  /** The validator connection that sent the job, or the one that re-attached to it. */
  owner: ValidatorPeer | null;
  /** Messages for the validator that found no open connection; sent on re-attach, in order. */
  outbox: MinerToValidatorMessage[];
  /** The job request, kept until the executor is connected to take it. */
  pendingJobRequest: V0JobRequest | null;
  executor: ExecutorPeer | null;
  /** The token was used: a second connection with it is refused. */
  tokenUsed: boolean;
  /** Public address of the executor as the manager reports it (streaming jobs). */
  executorAddress: string | null;
  /** Stops the "executor must connect by" timer. */
  readonly connectTimer: AbortController;
  /** Reached an end state (finished, failed, rejected); nothing more is relayed. */
  ended: boolean;
  /** When it ended (ms), for dropping results no validator came back for. */
  endedAt: number | null;
  /** Deliveries to the validator run one after another, so messages keep their order. */
  delivery: Promise<void>;
  /**
   * Status writes the store refused (it was down), retried in order in the background; the
   * messages they belong to were relayed without waiting. 0 when the row is up to date.
   */
  unsaved: number;
  /** The chain of those retried writes. */
  persisted: Promise<void>;
  /** The job's status writes, one after another in the order made (never rejects). */
  writing: Promise<void>;
}
