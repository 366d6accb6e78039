import type { WebSocket } from 'ws';
import type { Clock, Logger } from '../contracts/index.js';
import type { ValidatorDirectory } from '../chain/validator-directory.js';
import { encodeMessage, parseValidatorToFacilitator } from '../protocol/codec.js';
import { verifyFacilitatorAuth } from '../protocol/facilitator-auth.js';
import type {
  FacilitatorResponse,
  FacilitatorToValidatorMessage,
  V0JobCheated,
  ValidatorToFacilitatorMessage,
} from '../protocol/facilitator-messages.js';
import { JOB_END_STATUSES } from '../protocol/enums.js';
import type { JsonValue } from '../protocol/python-json.js';
import { jobRequestFor, type StoredJob } from './job-model.js';
import type { JobUpdateSignal } from './job-updates.js';
import type { CheatReportRow, FacilitatorStore } from './store.js';
import type { WorkerDispatch } from './workers/dispatch.js';

/** Close codes of ComputeHorde's facilitator consumer. */
export const CLOSE_INVALID_SIGNATURE = 3000;
export const CLOSE_NOT_A_VALIDATOR = 3001;
/** The first message was not an authentication request, or none came in time. */
export const CLOSE_POLICY = 1008;

export interface ValidatorHubOptions {
  readonly store: FacilitatorStore;
  /** Which hotkeys are active validators (metagraph: validator permit and stake). */
  readonly directory: ValidatorDirectory;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Jobs go only to validators heard from within this window (heartbeat or any message). */
  readonly livenessMs: number;
  /** Time to authenticate after opening the socket. */
  readonly authTimeoutMs: number;
  /**
   * Facilitator workers (N processes on one PostgreSQL): every send is claimed in the store first,
   * so one worker sends a job once, and new jobs are announced to the other workers. Absent: one
   * process, which sends what it has.
   */
  readonly workers?: WorkerDispatch;
  /** Woken with each stored status update (the clients waiting on `/updates/`); workers also announce it to the others. */
  readonly updates?: JobUpdateSignal;
}

export interface ConnectedValidator {
  readonly hotkey: string;
  readonly connections: number;
  readonly lastSeen: number;
  readonly live: boolean;
}

const ok = (): FacilitatorResponse => ({ status: 'success', errors: [] });
const error = (msg: string, type = 'error'): FacilitatorResponse => ({ status: 'error', errors: [{ msg, type, help: '' }] });

let nextConnectionId = 1;

/** One validator's websocket at `/ws/v0/`. Frames are handled one at a time, in order. */
class ValidatorConnection {
  readonly id = nextConnectionId++;
  hotkey: string | null = null;
  lastSeen = 0;
  /**
   * Jobs sent on this socket and not ended: never sent on it again (one TCP stream loses nothing;
   * a resync racing an announcement would otherwise send a job twice on the same socket).
   */
  readonly sentJobs = new Set<string>();
  private work: Promise<void> = Promise.resolve();
  private readonly authTimer: NodeJS.Timeout;
  private log: Logger;

  constructor(
    readonly socket: WebSocket,
    private readonly hub: ValidatorHub,
    private readonly options: ValidatorHubOptions,
  ) {
    this.log = options.logger.child({ connection: this.id });
    this.authTimer = setTimeout(() => {
      if (this.hotkey === null) this.close(CLOSE_POLICY, 'no V0AuthenticationRequest in time');
    }, options.authTimeoutMs);
    socket.on('message', (data, isBinary) => {
      const frame = isBinary ? (data as Buffer) : data.toString();
      this.work = this.work
        .then(() => this.onFrame(frame))
        .catch((err: unknown) => this.log.error({ err }, 'failed to handle a validator frame'));
    });
    socket.on('close', (code) => {
      clearTimeout(this.authTimer);
      this.hub.closed(this);
      this.log.info({ code, validatorHotkey: this.hotkey }, 'validator disconnected');
    });
    socket.on('error', (err) => this.log.warn({ err }, 'validator connection error'));
  }

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  send(message: FacilitatorToValidatorMessage): Promise<boolean> {
    if (!this.open) return Promise.resolve(false);
    return new Promise((resolve) => this.socket.send(encodeMessage(message), (err) => resolve(!err)));
  }

  close(code: number, reason: string): void {
    clearTimeout(this.authTimer);
    this.log.info({ code, reason, validatorHotkey: this.hotkey }, 'closing validator connection');
    if (this.open) this.socket.close(code, reason.slice(0, 120));
  }

  private async onFrame(frame: string | Buffer): Promise<void> {
    if (frame === 'PING') return;
    const parsed = parseValidatorToFacilitator(frame);
    if (!parsed.ok) {
      this.log.warn({ err: parsed.error.message, validatorHotkey: this.hotkey }, 'bad frame from validator');
      await this.send(error(parsed.error.message, parsed.error.code));
      if (this.hotkey === null) this.close(CLOSE_POLICY, 'authenticate first');
      return;
    }
    const message = parsed.message;
    if (this.hotkey === null) {
      if (message.message_type !== 'V0AuthenticationRequest') {
        await this.send(error('The first message must be V0AuthenticationRequest', 'unauthenticated'));
        this.close(CLOSE_POLICY, 'authenticate first');
        return;
      }
      await this.authenticate(message);
      return;
    }
    const previouslySeen = this.lastSeen;
    this.lastSeen = this.options.clock.now();
    // A validator silent past the liveness window got no pushes meanwhile: catch it up.
    if (this.lastSeen - previouslySeen >= this.options.livenessMs) await this.hub.dispatchPending(this.hotkey);
    await this.hub.handle(this, this.hotkey, message);
  }

  private async authenticate(message: Extract<ValidatorToFacilitatorMessage, { message_type: 'V0AuthenticationRequest' }>): Promise<void> {
    const ss58 = await verifyFacilitatorAuth(message);
    if (ss58 === null) {
      this.log.warn({ publicKey: message.public_key }, 'validator authentication with a bad signature');
      await this.send(error('Invalid signature', 'invalid_signature'));
      this.close(CLOSE_INVALID_SIGNATURE, 'invalid signature');
      return;
    }
    const status = await this.options.directory.status(ss58);
    if (status !== 'active') {
      this.log.warn({ validatorHotkey: ss58, status }, 'refused a hotkey that is not an active validator');
      await this.send(error(`${ss58} is not an active validator of the subnet (${status})`, 'validator_not_found'));
      this.close(CLOSE_NOT_A_VALIDATOR, 'not an active validator');
      return;
    }
    clearTimeout(this.authTimer);
    this.hotkey = ss58;
    this.lastSeen = this.options.clock.now();
    this.log = this.log.child({ validatorHotkey: ss58 });
    await this.send(ok());
    this.log.info('validator authenticated');
    await this.hub.authenticated(this, ss58);
  }
}

/**
 * The validators' side of the facilitator: authenticates each websocket (signature over the
 * validator's own public key, then the metagraph says whether the hotkey is an active validator),
 * pushes jobs and cheat reports targeted at a validator while it is live, and stores the status
 * updates and machine specs it sends. Jobs created while their validator is away wait in the store
 * and are pushed when it connects or its heartbeat resumes; then every job of that validator that
 * has not ended is pushed again, and the validator ignores the ones it is running and answers the
 * others (their final status, or a horde failure for a job it lost), so nothing stays open forever.
 */
export class ValidatorHub {
  private readonly connections = new Map<string, Set<ValidatorConnection>>();
  private readonly pending = new Set<ValidatorConnection>();
  private readonly log: Logger;

  constructor(private readonly options: ValidatorHubOptions) {
    this.log = options.logger.child({ component: 'validator-hub' });
  }

  accept(socket: WebSocket): void {
    this.pending.add(new ValidatorConnection(socket, this, this.options));
  }

  /** @internal */
  closed(connection: ValidatorConnection): void {
    this.pending.delete(connection);
    if (connection.hotkey !== null) this.connections.get(connection.hotkey)?.delete(connection);
  }

  /** @internal */
  async authenticated(connection: ValidatorConnection, hotkey: string): Promise<void> {
    this.pending.delete(connection);
    const set = this.connections.get(hotkey) ?? new Set();
    set.add(connection);
    this.connections.set(hotkey, set);
    await this.dispatchPending(hotkey);
  }

  /** The connection jobs for `hotkey` go to: the newest live one. */
  private liveConnection(hotkey: string): ValidatorConnection | null {
    const now = this.options.clock.now();
    let best: ValidatorConnection | null = null;
    for (const connection of this.connections.get(hotkey) ?? []) {
      if (!connection.open || now - connection.lastSeen >= this.options.livenessMs) continue;
      if (best === null || connection.id > best.id) best = connection;
    }
    return best;
  }

  isLive(hotkey: string): boolean {
    return this.liveConnection(hotkey) !== null;
  }

  validators(): ConnectedValidator[] {
    const now = this.options.clock.now();
    return [...this.connections].flatMap(([hotkey, set]) => {
      if (set.size === 0) return [];
      const lastSeen = Math.max(...[...set].map((c) => c.lastSeen));
      return [{ hotkey, connections: set.size, lastSeen, live: now - lastSeen < this.options.livenessMs }];
    });
  }

  /** @internal A message from an authenticated validator. */
  async handle(connection: ValidatorConnection, hotkey: string, message: ValidatorToFacilitatorMessage): Promise<void> {
    const { store, clock } = this.options;
    switch (message.message_type) {
      case 'V0Heartbeat':
        return;
      case 'V0JobStatusUpdate': {
        if (message.status === 'unknown') {
          await connection.send(error(`Unknown status for job ${message.uuid}`, 'invalid_status'));
          return;
        }
        const result = await store.addStatus(hotkey, message.uuid, message.status, message.metadata ?? null, clock.now());
        if (result === 'job_ended' || JOB_END_STATUSES.has(message.status)) connection.sentJobs.delete(message.uuid);
        if (result === 'ok' || result === 'duplicate') {
          this.log.info({ jobUuid: message.uuid, validatorHotkey: hotkey, status: message.status, result }, 'job status update');
          await connection.send(ok());
          if (result === 'ok') await this.statusStored(message.uuid, hotkey);
        } else {
          this.log.warn({ jobUuid: message.uuid, validatorHotkey: hotkey, status: message.status, result }, 'status update refused');
          await connection.send(
            error(result === 'unknown_job' ? `No job ${message.uuid} for this validator` : `Job ${message.uuid} has already ended`, result),
          );
        }
        return;
      }
      case 'V0MachineSpecsUpdate':
        if (message.validator_hotkey !== hotkey) {
          await connection.send(error('validator_hotkey is not the authenticated validator', 'forbidden'));
          return;
        }
        await store.saveMachineSpecs({
          minerHotkey: message.miner_hotkey,
          validatorHotkey: hotkey,
          specs: message.specs,
          batchId: message.batch_id,
          receivedAt: clock.now(),
        });
        await connection.send(ok());
        return;
      case 'V0AuthenticationRequest':
        await connection.send(error('Already authenticated', 'already_authenticated'));
        return;
    }
  }

  /**
   * Pushes every job and cheat report waiting for `hotkey`, if it is live: the resync on connect
   * and when a heartbeat resumes. Every open job goes again (the validator ignores the ones it runs
   * and answers the others with their final status, which recovers an update lost with a socket).
   */
  async dispatchPending(hotkey: string): Promise<void> {
    const connection = this.liveConnection(hotkey);
    if (!connection) return;
    for (const job of await this.options.store.openJobs(hotkey)) await this.sendJob(connection, job);
    await this.sendCheatReports(connection, hotkey);
  }

  /**
   * Facilitator workers, every poll: sends the jobs of the validators connected here that no live
   * worker has sent: created while the announcement was lost, or claimed by a worker that died
   * before its send went out. A job the validator has acknowledged (any status past `sent`) is
   * not sent again here.
   */
  async sweep(): Promise<void> {
    const workers = this.options.workers;
    if (!workers) return;
    for (const hotkey of this.connections.keys()) {
      const connection = this.liveConnection(hotkey);
      if (!connection) continue;
      const waiting = await this.options.store.unacknowledgedJobs(hotkey);
      const claimants = [...new Set(waiting.flatMap((job) => (job.dispatchedBy === null ? [] : [job.dispatchedBy])))];
      const alive = await workers.alive(claimants);
      for (const job of waiting) {
        if (job.dispatchedBy !== null && alive.has(job.dispatchedBy)) continue;
        if (job.dispatchedBy !== null)
          this.log.warn(
            { jobUuid: job.uuid, validatorHotkey: hotkey, deadWorker: job.dispatchedBy },
            'job claimed by a dead worker; sending it again',
          );
        await this.sendJob(connection, job);
      }
      await this.sendCheatReports(connection, hotkey);
    }
  }

  /** Pushes a new job at once when its validator is live here; otherwise it waits for the validator (or another worker's socket). */
  async jobCreated(uuid: string, validatorHotkey: string): Promise<boolean> {
    const connection = this.liveConnection(validatorHotkey);
    if (!connection) {
      if (this.options.workers) {
        await this.options.workers.announce({ kind: 'job', uuid, validatorHotkey });
        this.log.info({ jobUuid: uuid, validatorHotkey }, 'validator not connected here; job announced to the other workers');
      } else this.log.info({ jobUuid: uuid, validatorHotkey }, 'validator offline; job queued');
      return false;
    }
    const job = await this.options.store.job(uuid);
    if (!job || job.status !== 'sent') return false;
    if (await this.sendJob(connection, job)) return true;
    await this.options.workers?.announce({ kind: 'job', uuid, validatorHotkey });
    return false;
  }

  /** Wakes this process's clients waiting for the job, and the other workers'. */
  async statusStored(uuid: string, validatorHotkey: string): Promise<void> {
    this.options.updates?.notify(uuid);
    await this.options.workers
      ?.announce({ kind: 'status', uuid, validatorHotkey })
      .catch((err: unknown) => this.log.warn({ err: (err as Error).message, jobUuid: uuid }, 'could not announce a status update'));
  }

  /** Another worker's announcement: a job or cheat report for a validator that may be connected here. */
  async announced(validatorHotkey: string, uuid: string | null): Promise<void> {
    const connection = this.liveConnection(validatorHotkey);
    if (!connection) return;
    if (uuid === null) return this.sendCheatReports(connection, validatorHotkey);
    const job = await this.options.store.job(uuid);
    if (job && job.status === 'sent' && job.dispatchedBy === null) await this.sendJob(connection, job);
  }

  /**
   * Sends one job on `connection`. With workers, the send is claimed first against the claim the
   * job had when it was read (compare and set), so of several workers sending it at once one does,
   * and a failed send gives the claim back.
   */
  private async sendJob(connection: ValidatorConnection, job: StoredJob): Promise<boolean> {
    const validatorHotkey = job.targetValidatorHotkey;
    if (connection.sentJobs.has(job.uuid)) return false;
    // Taken before the first await: two sends racing on this socket cannot both pass.
    connection.sentJobs.add(job.uuid);
    if (!(await this.claimAndSend(connection, job))) {
      connection.sentJobs.delete(job.uuid);
      return false;
    }
    this.log.info({ jobUuid: job.uuid, validatorHotkey }, 'job sent to validator');
    return true;
  }

  private async claimAndSend(connection: ValidatorConnection, job: StoredJob): Promise<boolean> {
    const { store, clock, workers } = this.options;
    if (workers) {
      const previous = { dispatchedBy: job.dispatchedBy, dispatchedAt: job.dispatchedAt };
      if (!(await store.claimDispatch(job.uuid, workers.pid, clock.now(), previous))) return false;
      if (!(await connection.send(jobRequestFor(job.uuid, job.body, job.signature)))) {
        await store.releaseDispatch(job.uuid, workers.pid);
        return false;
      }
    } else {
      if (!(await connection.send(jobRequestFor(job.uuid, job.body, job.signature)))) return false;
      await store.markDispatched(job.uuid, clock.now());
    }
    return true;
  }

  async cheatReported(report: CheatReportRow): Promise<boolean> {
    const connection = this.liveConnection(report.validatorHotkey);
    if (connection) return this.sendCheatReport(connection, report);
    await this.options.workers?.announce({ kind: 'cheat', uuid: report.jobUuid, validatorHotkey: report.validatorHotkey });
    return false;
  }

  private async sendCheatReports(connection: ValidatorConnection, hotkey: string): Promise<void> {
    for (const report of await this.options.store.undeliveredCheatReports(hotkey)) await this.sendCheatReport(connection, report);
  }

  private async sendCheatReport(connection: ValidatorConnection, report: CheatReportRow): Promise<boolean> {
    const { store, clock, workers } = this.options;
    const message: V0JobCheated = {
      type: 'job.cheated',
      message_type: 'V0JobCheated',
      job_uuid: report.jobUuid,
      trusted_job_uuid: report.trustedJobUuid,
      details: (report.details ?? null) as JsonValue,
      signature: report.signature,
    };
    if (workers) {
      if (!(await store.claimCheatReport(report.jobUuid, workers.pid, clock.now()))) return false;
      if (!(await connection.send(message))) {
        await store.releaseCheatReport(report.jobUuid, workers.pid);
        return false;
      }
    } else {
      if (!(await connection.send(message))) return false;
      await store.markCheatReportDispatched(report.jobUuid, clock.now());
    }
    this.log.info({ jobUuid: report.jobUuid, validatorHotkey: report.validatorHotkey }, 'cheat report sent to validator');
    return true;
  }

  close(): void {
    for (const connection of [...this.pending, ...[...this.connections.values()].flatMap((set) => [...set])])
      connection.close(1001, 'facilitator shutting down');
  }
}
