import { EventEmitter } from 'node:events';
import pLimit from 'p-limit';
import type {
  Chain,
  Clock,
  HardwareClass,
  JobOutcomeStatus,
  JobResult,
  JobSpec,
  Logger,
  Manifest,
  Metagraph,
  Store,
} from '../../contracts/index.js';
import type { ValidatorSection } from '../../config/sections/validator.js';
import type { Hotkey } from '../../keys/index.js';
import { JOB_END_STATUSES } from '../../protocol/enums.js';
import type { JobStatusMetadata, V0JobCheated, V2JobRequest } from '../../protocol/facilitator-messages.js';
import { verifyCheatReport, verifyJobRequestSignature } from '../../protocol/sdk-signature.js';
import { cycleOf } from '../cycles.js';
import { MinerConnection, type MinerTarget } from '../miner-client.js';
import type { OrganicJobRecord, ValidatorStore } from '../store.js';
import { FacilitatorClient } from './facilitator-client.js';
import { hardwareClassOf } from '../job-driver.js';
import { executorSeconds, organicJobSpec, runOrganicJob, type StatusUpdate } from './organic-job.js';
import type { CollateralBook } from '../../collateral/book.js';
import { isTransientCollateralCode, type CollateralError } from '../../collateral/errors.js';
import type { CollateralSlasher } from '../../collateral/slasher.js';
import { filterByCollateral } from './collateral-filter.js';
import { MinerRouter } from './routing.js';
import { OrganicStore, RESTARTED_WHILE_RUNNING } from './store.js';
import { ValidatorConfigError } from '../errors.js';
import { definedFields } from '../../object/defined-fields.js';

/** What happened to one organic job (emitted once it ended and was relayed). */
export interface OrganicJobOutcome {
  readonly jobUuid: string;
  /** Null when the job never reached a miner (bad signature, no miner). */
  readonly minerHotkey: string | null;
  readonly onTrustedMiner: boolean;
  readonly status: JobOutcomeStatus;
  readonly final: StatusUpdate;
}

export interface OrganicEvents {
  connected: [];
  'job-finished': [OrganicJobOutcome];
  /** A cheat report or a failed cross-check withdrew a job's pay and blacklisted its miner. */
  'job-cheated': [{ jobUuid: string; minerHotkey: string; source: 'report' | 'cross-check' }];
  /** Routing left out miners with less collateral than the minimum. */
  'collateral-skipped': [{ jobUuid: string; skipped: ReadonlyArray<{ hotkey: string; wei: bigint }>; minimumWei: bigint }];
  /** Routing went on without the collateral filter: no collateral could be read yet. */
  'collateral-unavailable': [{ jobUuid: string; code: string }];
  /** A cheated job's miner was slashed (`tx`), or the slash failed for good (`code`). */
  slashed: [{ jobUuid: string; minerHotkey: string; amountWei: bigint; tx: string; evmAddress: string }];
  'slash-failed': [{ jobUuid: string; minerHotkey: string; code: string; message: string }];
}

/** The collateral this validator routes and slashes by (`validator.collateral`). */
export interface OrganicCollateral {
  readonly book: CollateralBook;
  /** Null when slashing is off (no EVM key file, or a slash amount of 0). */
  readonly slasher: CollateralSlasher | null;
  /** Miners below it get no organic jobs; 0n turns the filter off. */
  readonly minimumWei: bigint;
  /** Attempts after which a failed slash is no longer retried at start. */
  readonly slashAttempts: number;
}

export interface OrganicServiceDeps {
  readonly hotkey: Hotkey;
  readonly chain: Chain;
  readonly netuid: number;
  readonly settings: ValidatorSection;
  readonly hardwareClasses: readonly HardwareClass[];
  readonly store: Store;
  readonly validatorStore: ValidatorStore;
  /** This validator worker's session pid (recorded with each job it takes); null or absent for a single process. */
  readonly workerPid?: number | null;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Stores the outcome for scoring (`ValidatorHandle.recordOrganicJob`). */
  readonly recordOrganicJob: (record: OrganicJobRecord) => Promise<void>;
  /** Runs a sampled job again on the trusted miner (`ValidatorHandle.crossCheckOrganic`). */
  readonly crossCheckOrganic: (jobUuid: string, spec: JobSpec, result: JobResult) => Promise<boolean | null>;
  /**
   * Executors of a class that other validators' organic jobs hold at `at` ms, per miner, from
   * transferred receipts (`TransferredReceiptsRepository.busyExecutors`); routing skips full miners.
   */
  readonly busyElsewhere?: (executorClass: string, at: number) => Promise<ReadonlyMap<string, number>>;
  readonly collateral?: OrganicCollateral | null;
}

const rejection = (reason: 'invalid_signature' | 'no_miner_for_job', message: string): StatusUpdate => ({
  status: 'rejected',
  metadata: { job_rejection_details: { rejected_by: 'validator', reason, message, context: null } },
});

/**
 * The organic path of a validator: jobs from the facilitator, routed to miners, run with the
 * validator's job driver, every status relayed back, outcomes stored for scoring, a share
 * cross-checked on the trusted miner, cheat reports honoured.
 *
 * A job the facilitator sends again (after a reconnect) is not run twice: one still running is
 * ignored, one that ended gets its final status again, and one this validator lost in a restart
 * is reported as a horde failure.
 */
export class OrganicService extends EventEmitter<OrganicEvents> {
  readonly client: FacilitatorClient;
  readonly router: MinerRouter;
  readonly store: OrganicStore;
  private readonly running = new Map<string, Promise<void>>();
  private readonly background = new Set<Promise<unknown>>();
  private readonly connections = new Set<MinerConnection>();
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly log: Logger;
  private readonly aborts = new AbortController();
  private closed = false;

  constructor(private readonly deps: OrganicServiceDeps) {
    super();
    const organic = deps.settings.organic;
    if (!organic.facilitatorUrl) throw new ValidatorConfigError('organic.facilitatorUrl is not set');
    this.log = deps.logger.child({ component: 'organic' });
    this.store = new OrganicStore(deps.store, deps.hotkey.ss58, deps.workerPid ?? null);
    this.router = new MinerRouter(deps.hotkey.ss58);
    this.limit = pLimit(organic.maxConcurrentJobs);
    this.client = new FacilitatorClient({
      url: organic.facilitatorUrl,
      hotkey: deps.hotkey,
      clock: deps.clock,
      logger: deps.logger,
      heartbeatMs: organic.heartbeatSeconds * 1000,
      reconnectMaxDelayMs: organic.reconnectMaxDelaySeconds * 1000,
    });
    this.client.on('job-request', (request) => this.onJobRequest(request));
    this.client.on('job-cheated', (message) => this.track(this.onJobCheated(message)));
    this.client.on('connected', () => this.emit('connected'));
  }

  /** What routing and slashing go by (`validator.collateral`); null when collateral is off. */
  get collateral(): OrganicCollateral | null {
    return this.deps.collateral ?? null;
  }

  get connected(): boolean {
    return this.client.connected;
  }

  start(): void {
    this.client.start();
    const collateral = this.deps.collateral;
    if (collateral?.slasher) {
      const slasher = collateral.slasher;
      this.track(
        slasher.verifyTrustee().then(
          (trustee) => this.log.info({ trustee }, 'collateral: this validator is the trustee of its contract'),
          (err: CollateralError) =>
            this.log.error({ code: err.code, err: err.message }, 'collateral: cannot slash with the configured key'),
        ),
      );
      // Slashes that did not land before a restart (RPC away, validator stopped) are tried again.
      this.track(
        this.store.pendingSlashes(collateral.slashAttempts).then((pending) => {
          for (const job of pending) {
            // A refusal (InsufficientAmount, NotTrustee, no EVM key) stays a refusal: only slashes
            // that never ran or failed on a passing error (`CODE: message`) are tried again.
            const code = job.lastError?.split(':', 1)[0] ?? null;
            if (code === null || isTransientCollateralCode(code)) this.track(this.slash(job.jobUuid, job.minerHotkey, true));
          }
        }),
      );
    }
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.background.add(promise);
    void promise.catch((err: unknown) => this.log.error({ err }, 'organic task failed')).finally(() => this.background.delete(promise));
    return promise;
  }

  private relay(jobUuid: string, update: StatusUpdate): void {
    this.client.send({ message_type: 'V0JobStatusUpdate', uuid: jobUuid, status: update.status, metadata: update.metadata });
  }

  private onJobRequest(request: V2JobRequest): void {
    if (this.closed || this.running.has(request.uuid)) return;
    const done = this.handleJob(request)
      .catch((err: unknown) => {
        this.log.error({ err, jobUuid: request.uuid }, 'organic job crashed');
        const update: StatusUpdate = {
          status: 'horde_failed',
          metadata: {
            horde_failure_details: {
              reported_by: 'validator',
              reason: 'unhandled_exception',
              message: (err as Error).message,
              context: null,
            },
          },
        };
        this.relay(request.uuid, update);
        return this.store.setStatus(request.uuid, update.status, update.metadata, this.deps.clock.now()).catch(() => undefined);
      })
      .finally(() => this.running.delete(request.uuid));
    this.running.set(request.uuid, done);
  }

  private async handleJob(request: V2JobRequest): Promise<void> {
    const { clock } = this.deps;
    const log = this.log.child({ jobUuid: request.uuid, executorClass: request.executor_class });
    const signatory = request.signature?.signatory ?? '';
    const fresh = await this.store.addJob({
      jobUuid: request.uuid,
      executorClass: request.executor_class,
      namespace: request.job_namespace ?? null,
      onTrustedMiner: request.on_trusted_miner,
      signatory,
      now: clock.now(),
    });
    if (!fresh) return this.answerKnownJob(request.uuid);
    this.relay(request.uuid, { status: 'received', metadata: null });
    log.info({ signatory, onTrustedMiner: request.on_trusted_miner }, 'organic job received');

    const verified = await verifyJobRequestSignature(request);
    const allowed =
      verified.ok && (verified.signatory === this.deps.hotkey.ss58 || this.deps.settings.organic.whitelist.includes(verified.signatory));
    if (!allowed) {
      const why = verified.ok ? `signer ${verified.signatory} is not this validator or on its whitelist` : verified.error.message;
      log.warn({ signatory, why }, 'organic job refused: signature');
      return this.finish(request, null, 'rejected', rejection('invalid_signature', why));
    }
    await this.limit(() => this.route(request, log));
  }

  /** The facilitator sent a job this validator already has. */
  private async answerKnownJob(jobUuid: string): Promise<void> {
    const row = await this.store.job(jobUuid);
    if (!row) return;
    if (JOB_END_STATUSES.has(row.status)) {
      this.relay(jobUuid, { status: row.status, metadata: row.statusMetadata });
      return;
    }
    // Not running here, not ended: this validator restarted while running it.
    const update: StatusUpdate = { status: 'horde_failed', metadata: RESTARTED_WHILE_RUNNING };
    this.relay(jobUuid, update);
    await this.store.setStatus(jobUuid, update.status, update.metadata, this.deps.clock.now());
  }

  private hardwareClassFor(spec: JobSpec): HardwareClass {
    return hardwareClassOf(spec, this.deps.hardwareClasses);
  }

  /** Manifests from this validator's batches of this and the last cycle (newest wins). */
  private async storedManifests(cycle: number): Promise<Record<string, Manifest>> {
    const [previous, current] = await Promise.all([
      this.deps.validatorStore.manifests(cycle - 1),
      this.deps.validatorStore.manifests(cycle),
    ]);
    return { ...previous, ...current };
  }

  private async route(request: V2JobRequest, log: Logger): Promise<void> {
    const { settings, chain, netuid, clock } = this.deps;
    const spec = organicJobSpec(
      request,
      this.deps.hardwareClasses.find((c) => c.id === request.executor_class),
      settings.organic.allowedLeewaySeconds,
    );
    const cycle = cycleOf(await chain.currentBlock(), settings.cycleLengthBlocks).index;

    let candidates: MinerTarget[];
    let busyElsewhere: ReadonlyMap<string, number> = new Map();
    if (request.on_trusted_miner) {
      const trusted = settings.trustedMiner;
      if (!trusted) return this.finish(request, null, 'rejected', rejection('no_miner_for_job', 'this validator has no trusted miner'));
      candidates = [{ hotkey: trusted.hotkey, coldkey: null, uid: null, host: trusted.address, port: trusted.port }];
    } else {
      let metagraph: Metagraph, blacklisted: ReadonlySet<string>, stored: Readonly<Record<string, Manifest>>;
      [metagraph, blacklisted, stored, busyElsewhere] = await Promise.all([
        chain.metagraph(netuid),
        this.store.blacklisted(clock.now()),
        this.storedManifests(cycle),
        this.deps.busyElsewhere?.(request.executor_class, clock.now()) ?? Promise.resolve(busyElsewhere),
      ]);
      candidates = this.router.candidates(metagraph, request.executor_class, { blacklisted, stored, busyElsewhere });
      const before = candidates.length;
      candidates = this.collateralGate(request.uuid, candidates, log);
      if (before > 0 && candidates.length === 0) {
        log.warn(
          { candidates: before, minimumWei: String(this.deps.collateral!.minimumWei) },
          'routing: every candidate miner has less than the minimum collateral',
        );
        return this.finish(
          request,
          null,
          'rejected',
          rejection(
            'no_miner_for_job',
            `all ${before} candidate miners have less than the minimum collateral (${this.deps.collateral!.minimumWei} wei)`,
          ),
        );
      }
    }

    const tried: string[] = [];
    for (const target of candidates.slice(0, settings.organic.routingAttempts)) {
      tried.push(target.hotkey);
      let connection: MinerConnection;
      try {
        connection = await MinerConnection.connect(target, {
          validator: this.deps.hotkey,
          clock,
          logger: log,
          timeoutMs: settings.organic.minerConnectTimeoutSeconds * 1000,
        });
      } catch (err) {
        log.warn({ minerHotkey: target.hotkey, err: (err as Error).message }, 'routing: miner unreachable, trying the next');
        continue;
      }
      if (!request.on_trusted_miner) this.router.rememberManifest(target.hotkey, connection.manifest);
      if (!this.router.hasRoom(target.hotkey, request.executor_class, connection.manifest, busyElsewhere)) {
        log.info(
          { minerHotkey: target.hotkey, manifest: connection.manifest },
          'routing: miner has no free executor of the class, trying the next',
        );
        connection.close();
        continue;
      }
      await this.runOn(request, spec, connection, target, cycle, log);
      return;
    }
    log.warn({ tried }, 'routing: no miner for the job');
    await this.finish(
      request,
      null,
      'rejected',
      rejection(
        'no_miner_for_job',
        tried.length === 0
          ? `no miner declares ${request.executor_class} with a free executor`
          : `no usable miner among ${tried.length} tried`,
      ),
    );
  }

  /**
   * ComputeHorde's collateral filter: miners with less than the minimum are left out. With no
   * snapshot read yet (RPC down, wrong chain, no contract since start) routing goes on without the
   * filter, as the original does when its collateral listing fails; a stale snapshot is used as
   * the original uses the last values it synced.
   */
  private collateralGate(jobUuid: string, candidates: MinerTarget[], log: Logger): MinerTarget[] {
    const collateral = this.deps.collateral;
    if (!collateral || collateral.minimumWei <= 0n || candidates.length === 0) return candidates;
    const snapshot = collateral.book.snapshot();
    if (!snapshot) {
      const code = collateral.book.error?.code ?? 'HORDE_COLLATERAL_NOT_READ_YET';
      log.warn({ code, err: collateral.book.error?.message }, 'routing without the collateral filter: no collateral could be read yet');
      this.emit('collateral-unavailable', { jobUuid, code });
      return candidates;
    }
    const { kept, skipped } = filterByCollateral(candidates, snapshot, collateral.minimumWei);
    if (skipped.length > 0) {
      log.info(
        {
          minimumWei: String(collateral.minimumWei),
          skipped: skipped.map((s) => ({ minerHotkey: s.hotkey, wei: String(s.wei) })),
          snapshotAt: snapshot.atMs,
        },
        'routing: skipped miners below the minimum collateral',
      );
      this.emit('collateral-skipped', { jobUuid, skipped, minimumWei: collateral.minimumWei });
    }
    return kept;
  }

  private async runOn(
    request: V2JobRequest,
    spec: JobSpec,
    connection: MinerConnection,
    target: MinerTarget,
    cycle: number,
    log: Logger,
  ): Promise<void> {
    const { clock, settings } = this.deps;
    this.router.reserve(target.hotkey, request.executor_class, clock.now());
    this.connections.add(connection);
    await this.store.setMiner(request.uuid, target.hotkey, cycle, clock.now());
    log.info({ minerHotkey: target.hotkey, cycle }, 'organic job routed');
    let outcome;
    try {
      outcome = await runOrganicJob(request, spec, {
        connection,
        validator: this.deps.hotkey,
        clock,
        logger: log,
        hardwareClass: this.hardwareClassFor(spec),
        cycle,
        limits: {
          reservationMs: settings.reservationTimeLimitSeconds * 1000,
          startupMs: settings.startupTimeLimitSeconds * 1000,
          slackMs: settings.jobResponseSlackSeconds * 1000,
        },
        onProgress: (update) => {
          this.relay(request.uuid, update);
          void this.store.setStatus(request.uuid, update.status, update.metadata, clock.now()).catch(() => undefined);
        },
        onMachineSpecs: (specs) =>
          this.client.send({
            message_type: 'V0MachineSpecsUpdate',
            miner_hotkey: target.hotkey,
            validator_hotkey: this.deps.hotkey.ss58,
            specs,
            batch_id: request.uuid,
          }),
      });
    } finally {
      this.router.release(target.hotkey, request.executor_class);
      this.connections.delete(connection);
      connection.close();
    }
    const { record, result, final } = outcome;
    await this.finish(request, target.hotkey, record.status, final);
    // Trusted-miner runs are the ground truth of cross-checks, not paid work: never scored.
    if (request.on_trusted_miner) return;
    await this.deps.recordOrganicJob({
      jobUuid: request.uuid,
      cycle,
      minerHotkey: target.hotkey,
      executorClass: request.executor_class,
      status: record.status,
      executorSeconds: executorSeconds(request),
      details: record.details,
      failure: record.failure,
      ...definedFields({ history: record.history }),
    });
    if (record.status === 'completed' && result !== null) this.track(this.crossCheck(request.uuid, target.hotkey, spec, result));
  }

  private async finish(request: V2JobRequest, minerHotkey: string | null, status: JobOutcomeStatus, final: StatusUpdate): Promise<void> {
    this.relay(request.uuid, final);
    await this.store.setStatus(request.uuid, final.status, final.metadata as JobStatusMetadata | null, this.deps.clock.now());
    this.log.info({ jobUuid: request.uuid, minerHotkey, status: final.status }, 'organic job ended');
    this.emit('job-finished', { jobUuid: request.uuid, minerHotkey, onTrustedMiner: request.on_trusted_miner, status, final });
  }

  private async crossCheck(jobUuid: string, minerHotkey: string, spec: JobSpec, result: JobResult): Promise<void> {
    const agrees = await this.deps.crossCheckOrganic(jobUuid, spec, result);
    if (agrees !== false) return;
    await this.withdraw(jobUuid, minerHotkey, 'cross_check_failed', 'the trusted miner produced a different result', null);
    this.emit('job-cheated', { jobUuid, minerHotkey, source: 'cross-check' });
  }

  /** Takes a job's pay back and keeps its miner off organic jobs for `cheatedBlacklistSeconds`. */
  private async withdraw(
    jobUuid: string,
    minerHotkey: string,
    reason: 'job_cheated' | 'cross_check_failed',
    details: string,
    reportDetails: unknown,
  ): Promise<boolean> {
    const now = this.deps.clock.now();
    if (!(await this.store.markCheated(jobUuid, reportDetails ?? details, now))) return false;
    await this.deps.validatorStore.markOrganicJobIncorrect(jobUuid, `cheated: ${details}`);
    await this.store.blacklist(minerHotkey, reason, details, now, this.deps.settings.organic.cheatedBlacklistSeconds);
    this.log.warn(
      { jobUuid, minerHotkey, reason, blacklistSeconds: this.deps.settings.organic.cheatedBlacklistSeconds },
      'organic job cheated: pay withdrawn, miner blacklisted',
    );
    if (this.deps.collateral?.slasher) this.track(this.slash(jobUuid, minerHotkey));
    return true;
  }

  /** Slashes the miner of a cheated job once; a failure is stored and logged, never thrown. */
  private async slash(jobUuid: string, minerHotkey: string, recheck = false): Promise<void> {
    const slasher = this.deps.collateral?.slasher;
    if (!slasher) return;
    const row = await this.store.job(jobUuid);
    if (!row || row.slashedAt !== null) return;
    const log = this.log.child({ jobUuid, minerHotkey });
    try {
      const done = await slasher.slash(jobUuid, minerHotkey, { signal: this.aborts.signal, recheck });
      await this.store.markSlashed(jobUuid, done.tx.hash, done.amountWei, 1, this.deps.clock.now());
      log.warn(
        { evmAddress: done.evmAddress, amountWei: String(done.amountWei), tx: done.tx.hash, reason: done.reason },
        'collateral slashed for a cheated job',
      );
      this.emit('slashed', { jobUuid, minerHotkey, amountWei: done.amountWei, tx: done.tx.hash, evmAddress: done.evmAddress });
    } catch (err) {
      const error = err as CollateralError;
      const code = error.code ?? 'HORDE_COLLATERAL_RPC_ERROR';
      await this.store.recordSlashFailure(jobUuid, `${code}: ${error.message}`, 1, this.deps.clock.now());
      log.error({ code, revert: error.revert ?? null, err: error.message }, 'collateral slash failed');
      this.emit('slash-failed', { jobUuid, minerHotkey, code, message: error.message });
    }
  }

  private async onJobCheated(message: V0JobCheated): Promise<void> {
    const log = this.log.child({ jobUuid: message.job_uuid, trustedJobUuid: message.trusted_job_uuid });
    if (!message.signature) {
      log.warn('cheat report without a signature; ignored');
      return;
    }
    const verified = await verifyCheatReport(message, message.signature);
    if (
      !verified.ok ||
      (verified.signatory !== this.deps.hotkey.ss58 && !this.deps.settings.organic.whitelist.includes(verified.signatory))
    ) {
      log.warn(
        { signatory: message.signature.signatory, why: verified.ok ? 'signer not allowed' : verified.error.message },
        'cheat report refused',
      );
      return;
    }
    const [job, trusted] = await Promise.all([this.store.job(message.job_uuid), this.store.job(message.trusted_job_uuid)]);
    if (!job || job.onTrustedMiner || job.minerHotkey === null || job.status !== 'completed') {
      log.warn({ status: job?.status ?? null }, 'cheat report for a job this validator did not complete on a miner; ignored');
      return;
    }
    if (!trusted || !trusted.onTrustedMiner) {
      log.warn('cheat report whose trusted job this validator did not run on its trusted miner; ignored');
      return;
    }
    if (await this.withdraw(job.jobUuid, job.minerHotkey, 'job_cheated', `reported by ${verified.signatory}`, message.details)) {
      this.emit('job-cheated', { jobUuid: job.jobUuid, minerHotkey: job.minerHotkey, source: 'report' });
    }
  }

  /**
   * Stops taking jobs, ends the running ones (their miner connections close, so they end as horde
   * failures at once), and closes the facilitator connection once their final statuses are out.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.aborts.abort();
    for (const connection of this.connections) connection.close();
    await Promise.allSettled([...this.running.values()]);
    await this.client.close();
    await Promise.allSettled([...this.background]);
    await this.deps.collateral?.book.stop();
  }
}
