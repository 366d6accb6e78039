import { EventEmitter } from 'node:events';
import type {
  Chain,
  Clock,
  HardwareClass,
  JobGenerator,
  JobResult,
  JobSpec,
  Logger,
  Manifest,
  Metagraph,
  RevealResult,
  ScoringRule,
  Store,
  WeightSubmissionResult,
} from '../contracts/index.js';
import type { ValidatorSection } from '../config/sections/validator.js';
import { COMPUTE_HORDE_SHORT_CODES, decodeManifestCommitment } from '../chain/manifest-commitment.js';
import type { Hotkey } from '../keys/index.js';
import { runBatch, type BatchDeps, type BatchResult, type BatchSettings } from './batch.js';
import { BatchAbortedError } from './errors.js';
import { batchSlotBlock, cycleByIndex, cycleOf, type CycleRange } from './cycles.js';
import type { JobRecord } from './job-driver.js';
import type { MinerTarget } from './miner-client.js';
import { buildCycleFacts, RECEIPT_LOOKBACK_MS } from './scoring/facts.js';
import { runScoringPipeline, type ScoringResult } from './scoring/engine.js';
import { ValidatorStore, type OrganicJobRecord } from './store.js';
import { crossCheckOrganicJob, shouldCrossCheck, TrustedMinerClient } from './trusted-miner.js';
import { OrganicService } from './organic/organic-service.js';
import { validatorCollateral } from '../collateral/from-settings.js';
import { OrganicStore } from './organic/store.js';
import { WeightSetter } from './weights.js';
import { writeAcknowledged } from './store-writes.js';
import { receiptSources } from './receipts/sources.js';
import { receiptTransferSettings } from './receipts/settings.js';
import { TransferredReceiptsRepository } from './receipts/store.js';
import { ReceiptTransfer, type PageReadReport } from './receipts/transfer.js';
import { ReceiptVerifierPool, type ReceiptLineVerifier } from './receipts/verifier-pool.js';
import { refuseSharedGpusAcrossTasks } from './workers/batch-gpu-check.js';
import type { ValidatorWorkerPool } from './workers/pool.js';
import type { BatchTaskResult } from './workers/task-store.js';
import { definedFields } from '../object/defined-fields.js';

/** Events a validator handle emits (the devnet's progress view subscribes to them). */
export interface ValidatorEvents {
  'batch-started': [{ cycle: number; miners: number; jobs: number }];
  'job-finished': [JobRecord];
  'batch-finished': [Omit<BatchResult, 'records'>];
  'cycle-scored': [{ cycle: number; result: ScoringResult }];
  'weights-set': [{ cycle: number; result: WeightSubmissionResult | null }];
  'weights-revealed': [RevealResult];
  /** One receipt page fetched from a miner: receipts stored, lines refused by reason. */
  'receipts-transferred': [PageReadReport];
  /** Something went wrong in the background loop; the validator keeps running. */
  failure: [{ stage: string; error: Error }];
}

export type ValidatorPhase = 'idle' | 'batch' | 'scoring';

export interface ValidatorProgress {
  readonly block: number | null;
  readonly cycle: number | null;
  readonly phase: ValidatorPhase;
  readonly lastBatch: Omit<BatchResult, 'records'> | null;
  readonly lastScoredCycle: number | null;
  readonly lastWeights: { cycle: number; result: WeightSubmissionResult | null } | null;
}

export interface ValidatorDeps {
  readonly hotkey: Hotkey;
  readonly chain: Chain;
  readonly store: Store;
  readonly netuid: number;
  /** The `validator` config section (defaults filled in). */
  readonly settings: ValidatorSection;
  readonly generators: readonly JobGenerator[];
  readonly hardwareClasses: readonly HardwareClass[];
  readonly scoringRules: readonly ScoringRule[];
  readonly logger: Logger;
  readonly clock: Clock;
  /**
   * Follow the chain: run this validator's batch in its slot of every cycle, score each cycle when
   * the next begins, set weights and send due reveals. Default true; tests may drive the steps
   * by hand instead.
   */
  readonly autoRun?: boolean;
  /**
   * Run as one worker of a pool sharing PostgreSQL (`validator.workers`): the cycle work happens
   * only while this worker leads, batches are split into tasks every worker runs. Absent: one
   * process does everything, as always.
   */
  readonly workers?: ValidatorWorkerPool;
}

export interface ValidatorHandle extends EventEmitter<ValidatorEvents> {
  readonly hotkey: string;
  readonly store: ValidatorStore;
  /** Runs the batch of `cycle` (default: the current one) now, outside its slot. */
  runBatch(cycle?: number): Promise<BatchResult>;
  /** Scores a cycle from what the store holds and records the result. */
  scoreCycle(cycle: number): Promise<ScoringResult>;
  /** Scores a cycle and puts its weights on chain. */
  scoreAndSetWeights(cycle: number): Promise<WeightSubmissionResult | null>;
  /** Sends the reveals that are due (commit-reveal). */
  revealWeights(): Promise<RevealResult[]>;
  /** Stores an organic job's outcome for scoring (called by whatever routed the job). */
  recordOrganicJob(record: OrganicJobRecord): Promise<void>;
  /**
   * For an organic job's result: when the job falls in `organicCrossCheckFraction`, runs it again
   * on the trusted miner and says whether the results agree (false = cheated). Null when the job
   * is not sampled or no trusted miner is configured.
   */
  crossCheckOrganic(jobUuid: string, spec: JobSpec, minerResult: JobResult): Promise<boolean | null>;
  /** The organic path (jobs from the facilitator); null unless `organic.facilitatorUrl` is set. */
  readonly organic: OrganicService | null;
  /**
   * Receipt transfer from the miners of the metagraph; null when `receiptTransfer.enabled` is
   * false. It runs on its own with `autoRun`; tests may call `catchUp()`/`keepUp()` by hand.
   */
  readonly receiptTransfer: ReceiptTransfer | null;
  /** Receipts transferred from miners (all validators' receipts, both signatures verified). */
  readonly transferredReceipts: TransferredReceiptsRepository;
  progress(): ValidatorProgress;
  close(): Promise<void>;
}

/** Miners to test: every neuron serving an axon, except this validator. */
export function minerTargets(metagraph: Metagraph, ownHotkey: string): MinerTarget[] {
  return metagraph.neurons
    .filter((neuron) => neuron.axon !== null && neuron.hotkey !== ownHotkey)
    .map((neuron) => ({ hotkey: neuron.hotkey, coldkey: neuron.coldkey, uid: neuron.uid, host: neuron.axon!.ip, port: neuron.axon!.port }));
}

export function batchSettings(settings: ValidatorSection): BatchSettings {
  return {
    limits: {
      reservationMs: settings.reservationTimeLimitSeconds * 1000,
      startupMs: settings.startupTimeLimitSeconds * 1000,
      slackMs: settings.jobResponseSlackSeconds * 1000,
    },
    manifestTimeoutMs: settings.manifestTimeoutSeconds * 1000,
    mainHotkeyTimeoutMs: settings.mainHotkeyTimeoutSeconds * 1000,
    connectConcurrency: settings.connectConcurrency,
    generateConcurrency: settings.generateConcurrency,
    verifyConcurrency: settings.verifyConcurrency,
    maxExecutorsPerClass: settings.maxExecutorsPerClass,
  };
}

class Validator extends EventEmitter<ValidatorEvents> implements ValidatorHandle {
  readonly hotkey: string;
  readonly store: ValidatorStore;
  private readonly weightSetter: WeightSetter;
  private readonly trustedMiner: TrustedMinerClient | undefined;
  organic: OrganicService | null = null;
  readonly receiptTransfer: ReceiptTransfer | null;
  readonly transferredReceipts: TransferredReceiptsRepository;
  private readonly receiptVerifier: ReceiptLineVerifier | null;
  private readonly log: Logger;
  private stopBlocks: (() => void) | null = null;
  private readonly running = new Set<Promise<unknown>>();
  private readonly batchesStarted = new Set<number>();
  private readonly cyclesScored = new Set<number>();
  private readonly batchRuns = new Map<number, Promise<BatchResult>>();
  private scoring: Promise<unknown> = Promise.resolve();
  private tickBusy = false;
  private pendingBlock: number | null = null;
  private lastRevealBlock = -Infinity;
  private closed = false;
  private leadTimer: NodeJS.Timeout | null = null;
  private receiptTransferStarted = false;
  /** This worker closed the past batches previous leaders left running (once, when it first led). */
  private closedLeftBatches = false;
  /** Aborted by `close`: the running batch and trusted-miner runs end at once instead of running out their limits. */
  private readonly shutdown = new AbortController();
  private state: {
    block: number | null;
    cycle: number | null;
    phase: ValidatorPhase;
    lastBatch: ValidatorProgress['lastBatch'];
    lastScoredCycle: number | null;
    lastWeights: ValidatorProgress['lastWeights'];
  } = {
    block: null,
    cycle: null,
    phase: 'idle',
    lastBatch: null,
    lastScoredCycle: null,
    lastWeights: null,
  };

  constructor(private readonly options: ValidatorDeps) {
    super();
    this.hotkey = options.hotkey.ss58;
    // `role` is the process logger's (`openProcess`); binding it again would print it twice.
    this.log = options.logger.child({ validatorHotkey: this.hotkey });
    this.store = new ValidatorStore(options.store, this.hotkey);
    const weights = options.settings.weights;
    this.weightSetter = new WeightSetter({
      chain: options.chain,
      store: this.store,
      netuid: options.netuid,
      clock: options.clock,
      logger: this.log,
      attempts: weights.attempts,
      retryDelayMs: weights.retryDelaySeconds * 1000,
      signal: this.shutdown.signal,
      ...definedFields({ versionKey: weights.versionKey }),
    });
    const trusted = options.settings.trustedMiner;
    this.trustedMiner = trusted
      ? new TrustedMinerClient({
          target: { hotkey: trusted.hotkey, coldkey: null, uid: null, host: trusted.address, port: trusted.port },
          validator: options.hotkey,
          clock: options.clock,
          logger: this.log,
          hardwareClasses: options.hardwareClasses,
          limits: batchSettings(options.settings).limits,
          signal: this.shutdown.signal,
        })
      : undefined;
    this.transferredReceipts = new TransferredReceiptsRepository(options.store, this.hotkey);
    const transfer = options.settings.receiptTransfer;
    this.receiptVerifier = transfer.enabled ? ReceiptVerifierPool.create(transfer.verifyThreads, this.log) : null;
    this.receiptTransfer = this.receiptVerifier
      ? new ReceiptTransfer({
          repository: this.transferredReceipts,
          verifier: this.receiptVerifier,
          sources: async () => receiptSources(await options.chain.metagraph(options.netuid), this.hotkey),
          clock: options.clock,
          logger: this.log,
          settings: receiptTransferSettings(transfer),
          onPageRead: (report) => this.emit('receipts-transferred', report),
        })
      : null;
  }

  /**
   * Closes what a previous process of this validator left unfinished when it ended without a
   * clean shutdown (kill -9, a crash): its running batch and its organic jobs in flight end in a
   * final status, with a log line, before anything new runs.
   */
  async closeInterrupted(): Promise<void> {
    const now = this.options.clock.now();
    // A worker starts while the others run: the batch `running` now is the live leader's, and
    // closing it would fail a batch in progress. Only a worker that takes the lead closes batches.
    const cycles = this.options.workers ? [] : await this.store.closeInterruptedBatches(now);
    if (cycles.length > 0)
      this.log.warn({ cycles }, "batches left running by a previous process recorded failed; the current cycle's batch runs again");
    const workers = this.options.workers;
    const jobs = await new OrganicStore(this.options.store, this.hotkey).closeInterruptedJobs(
      now,
      workers ? (pids) => workers.alive(pids) : undefined,
    );
    if (jobs.length > 0)
      this.log.warn(
        { jobs: jobs.length, jobUuids: jobs.slice(0, 20) },
        'organic jobs left in flight by a previous process recorded horde_failed',
      );
  }

  start(): void {
    this.stopBlocks = this.options.chain.onBlock((block) => this.onBlock(block));
    const workers = this.options.workers;
    if (!workers) {
      this.receiptTransfer?.start();
      return;
    }
    // A worker: take batch tasks from the queue at once; the cycle work waits for leadership.
    this.track(
      workers.serveTasks((cycle, targets, signal, onPlanned) => this.runTask(cycle, targets, signal, onPlanned), this.shutdown.signal),
    ).catch((error: unknown) => this.fail('workers', error));
    workers.onSessionLost((error) => this.fail('workers', error));
    const tryLead = () => {
      if (this.closed) return;
      void workers
        .tryLead()
        .then(async (leading) => {
          if (leading && !this.closedLeftBatches && !this.closed) {
            this.closedLeftBatches = true;
            await this.closeBatchesLeftByLeaders();
          }
          // Receipt transfer is cycle work too: one worker pulls the pages, all read the receipts.
          if (leading && !this.receiptTransferStarted && !this.closed) {
            this.receiptTransferStarted = true;
            this.receiptTransfer?.start();
          }
        })
        .catch((error: unknown) => this.log.warn({ err: (error as Error).message }, 'leadership attempt failed; trying again'))
        .finally(() => {
          if (!this.closed && !workers.isLeader) this.leadTimer = setTimeout(tryLead, this.options.settings.workers.pollSeconds * 1000);
        });
    };
    tryLead();
  }

  /**
   * A new leader of validator workers: batches of past cycles that a dead leader left `running`
   * are recorded failed (the current cycle's batch is resumed from its plan by the block loop).
   */
  private async closeBatchesLeftByLeaders(): Promise<void> {
    const current = cycleOf(await this.options.chain.currentBlock(), this.options.settings.cycleLengthBlocks).index;
    const cycles = await this.store.closeInterruptedBatches(this.options.clock.now(), current);
    if (cycles.length > 0) this.log.warn({ cycles }, 'batches of past cycles left running by a previous leader recorded failed');
  }

  /** One task of a batch another worker (or this one) planned: the batch's steps on these miners only. */
  private async runTask(
    cycleIndex: number,
    targets: readonly MinerTarget[],
    signal: AbortSignal,
    onPlanned: (jobs: number) => void,
  ): Promise<BatchTaskResult> {
    // An earlier attempt of this task may have stored outcomes before its worker died: replace them.
    await this.store.deleteSyntheticJobs(
      cycleIndex,
      targets.map((target) => target.hotkey),
    );
    const result = await runBatch(cycleByIndex(cycleIndex, this.options.settings.cycleLengthBlocks), targets, {
      ...this.batchDeps(signal),
      partOfBatch: true,
      hooks: { onBatchStarted: (event) => onPlanned(event.jobs), onJobFinished: (record) => this.emit('job-finished', record) },
    });
    const { cycle: _cycle, records: _records, ...summary } = result;
    return summary;
  }

  /** What every batch (or batch task) of this validator runs with. */
  private batchDeps(signal: AbortSignal) {
    return {
      validator: this.options.hotkey,
      clock: this.options.clock,
      logger: this.log,
      store: this.store,
      generators: this.options.generators,
      hardwareClasses: this.options.hardwareClasses,
      settings: batchSettings(this.options.settings),
      ...definedFields({ trustedMiner: this.trustedMiner }),
      ...this.manifestSources(),
      signal,
    };
  }

  /** Connects to the facilitator and serves organic jobs (independent of `autoRun`). */
  startOrganic(): void {
    const { options } = this;
    const collateral = validatorCollateral(options.settings.collateral, {
      chain: options.chain,
      netuid: options.netuid,
      clock: options.clock,
      logger: this.log,
    });
    collateral?.book.start(options.settings.collateral.refreshSeconds * 1000);
    this.organic = new OrganicService({
      collateral,
      hotkey: options.hotkey,
      chain: options.chain,
      netuid: options.netuid,
      settings: options.settings,
      hardwareClasses: options.hardwareClasses,
      store: options.store,
      validatorStore: this.store,
      workerPid: options.workers?.pid ?? null,
      logger: this.log,
      clock: options.clock,
      recordOrganicJob: (record) => this.recordOrganicJob(record),
      crossCheckOrganic: (jobUuid, spec, result) => this.crossCheckOrganic(jobUuid, spec, result),
      busyElsewhere: (executorClass, at) =>
        this.transferredReceipts.busyExecutors({ executorClass, at, exceptValidator: this.hotkey, lookbackMs: RECEIPT_LOOKBACK_MS }),
    });
    this.organic.start();
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.running.add(promise);
    void promise.finally(() => this.running.delete(promise)).catch(() => undefined);
    return promise;
  }

  /** Retry settings of the store writes that must survive a store restart. */
  private storeWrite(fields: Record<string, unknown>): { logger: Logger; signal: AbortSignal; fields: Record<string, unknown> } {
    return { logger: this.log, signal: this.shutdown.signal, fields };
  }

  private fail(stage: string, error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error));
    this.log.error({ stage, err }, 'validator step failed');
    this.emit('failure', { stage, error: err });
  }

  /** Block ticks are handled one at a time; a tick that arrives meanwhile is folded into the next. */
  private onBlock(block: number): void {
    if (this.closed) return;
    // Cycle work is the leader's alone: the other workers only run tasks.
    if (this.options.workers && !this.options.workers.isLeader) return;
    if (this.tickBusy) {
      this.pendingBlock = block;
      return;
    }
    this.tickBusy = true;
    void this.tick(block)
      .catch((error: unknown) => this.fail('tick', error))
      .finally(() => {
        this.tickBusy = false;
        const next = this.pendingBlock;
        this.pendingBlock = null;
        if (next !== null && next !== block) this.onBlock(next);
      });
  }

  private async tick(block: number): Promise<void> {
    const { settings } = this.options;
    const cycle = cycleOf(block, settings.cycleLengthBlocks);
    this.state.block = block;
    this.state.cycle = cycle.index;

    if (block - this.lastRevealBlock >= settings.weights.revealEveryBlocks) {
      this.lastRevealBlock = block;
      this.track(this.revealWeights());
    }

    // This cycle's batch, once its slot has come (or at once when the validator started late), and
    // never two at a time: a batch that ran into the next cycle delays that cycle's batch.
    if (!this.batchesStarted.has(cycle.index) && this.batchRuns.size === 0) {
      this.batchesStarted.add(cycle.index);
      try {
        const existing = await this.store.batch(cycle.index);
        if (existing?.status === 'finished') {
          this.log.info({ cycle: cycle.index }, 'batch of this cycle already ran');
        } else {
          const metagraph = await this.options.chain.metagraph(this.options.netuid);
          const slot = batchSlotBlock(cycle, metagraph, this.hotkey, settings.batchOffsetBlocks);
          if (block >= slot) this.track(this.startBatch(cycle, metagraph)).catch(() => undefined);
          else this.batchesStarted.delete(cycle.index);
        }
      } catch (error) {
        // Try again on a later block (a chain read can fail transiently).
        this.batchesStarted.delete(cycle.index);
        throw error;
      }
    }

    // A past cycle is scored once its batch is over: the previous one, and any older one whose
    // batch ran on past the next cycle's end (it would otherwise never be scored, silently).
    for (const past of this.cyclesToScore(cycle.index)) {
      this.cyclesScored.add(past);
      try {
        const batch = await this.store.batch(past);
        if (batch?.status === 'finished' && !(await this.store.weightsLanded(past))) {
          if (past < cycle.index - 1) this.warnOverrun(past, cycle.index);
          this.scoring = this.scoring.then(() =>
            this.track(this.scoreAndSetWeights(past)).catch((error: unknown) => {
              // Scoring did not get through (the store was down): a later block tries again,
              // unless the weights landed meanwhile (checked above).
              this.cyclesScored.delete(past);
              this.fail('scoring', error);
            }),
          );
        }
      } catch (error) {
        this.cyclesScored.delete(past);
        throw error;
      }
    }
  }

  /**
   * Past cycles to look at for scoring, oldest first: the previous cycle and every older one whose
   * batch this process started and has not scored, once the batch is no longer running. None
   * older than a cycle already scored: weights of an old cycle must not replace newer ones.
   */
  private cyclesToScore(current: number): number[] {
    const newestScored = this.state.lastScoredCycle ?? -1;
    const candidates = new Set<number>([...this.batchesStarted].filter((c) => c < current));
    if (current - 1 >= 0) candidates.add(current - 1);
    return [...candidates].filter((c) => c > newestScored && !this.cyclesScored.has(c) && !this.batchRuns.has(c)).sort((a, b) => a - b);
  }

  /** Says loudly that a batch outlasted the next cycle, and how to make batches fit. */
  private warnOverrun(cycle: number, current: number): void {
    this.log.warn(
      { cycle, currentCycle: current, cycleLengthBlocks: this.options.settings.cycleLengthBlocks },
      `batch of cycle ${cycle} ran past the end of its cycle and the next one; scoring it now (late). ` +
        'Its weights land late and the next cycle had no batch. To make batches fit, raise validator.cycleLengthBlocks, ' +
        "lower validator.batchOffsetBlocks, or shorten the jobs (the job generators' time limits, validator.jobResponseSlackSeconds).",
    );
  }

  private startBatch(cycle: CycleRange, metagraph?: Metagraph): Promise<BatchResult> {
    const run = (async () => {
      const graph = metagraph ?? (await this.options.chain.metagraph(this.options.netuid));
      const block = await this.options.chain.currentBlock();
      const startedAt = this.options.clock.now();
      await writeAcknowledged(
        'batch start',
        () => this.store.startBatch(cycle.index, block, startedAt),
        this.storeWrite({ cycle: cycle.index }),
      );
      this.state.phase = 'batch';
      try {
        const targets = minerTargets(graph, this.hotkey);
        const result = this.options.workers
          ? await this.runDistributedBatch(this.options.workers, cycle, targets)
          : await runBatch(cycle, targets, {
              ...this.batchDeps(this.shutdown.signal),
              hooks: {
                onBatchStarted: (event) => this.emit('batch-started', event),
                onJobFinished: (record) => this.emit('job-finished', record),
              },
            });
        const finished = {
          finishedAt: this.options.clock.now(),
          miners: result.miners,
          jobs: result.jobs,
          overheadMs: result.overheadMs,
          status: 'finished' as const,
        };
        await writeAcknowledged('batch end', () => this.store.finishBatch(cycle.index, finished), this.storeWrite({ cycle: cycle.index }));
        const { records: _records, ...summary } = result;
        this.state.lastBatch = summary;
        this.emit('batch-finished', summary);
        return result;
      } catch (error) {
        // An aborted batch (shutdown) is recorded as failed too: it is not scored, and runs again
        // if the validator is back within the cycle.
        // Left `running` if the store stays down: the next start records it failed (closeInterrupted).
        const failed = { finishedAt: this.options.clock.now(), miners: 0, jobs: 0, overheadMs: null, status: 'failed' as const };
        await writeAcknowledged(
          'batch end',
          () => this.store.finishBatch(cycle.index, failed),
          this.storeWrite({ cycle: cycle.index }),
        ).catch(() => undefined);
        if (error instanceof BatchAbortedError) this.log.info({ cycle: cycle.index }, 'batch aborted: the validator is shutting down');
        else this.fail('batch', error);
        throw error;
      } finally {
        this.state.phase = 'idle';
        this.batchRuns.delete(cycle.index);
      }
    })();
    this.batchRuns.set(cycle.index, run);
    return run;
  }

  /** Short codes of the manifest commitment format: ComputeHorde's, plus the hardware-class plugins' own. */
  private commitmentShortCodes(): Record<string, string> {
    const shortCodes: Record<string, string> = { ...COMPUTE_HORDE_SHORT_CODES };
    for (const hc of this.options.hardwareClasses) if (hc.shortCode.length === 1 && hc.shortCode !== '?') shortCodes[hc.id] = hc.shortCode;
    return shortCodes;
  }

  /**
   * Where one batch reads manifests from: the commitment is always read (once per miner) to
   * cross-check the served manifest; with `manifestSource: commitment` it is also the one used.
   */
  private manifestSources(): Pick<BatchDeps, 'manifestOf' | 'committedManifestOf' | 'committableClasses'> {
    const shortCodes = this.commitmentShortCodes();
    const read = new Map<string, Promise<Manifest | null>>();
    const committedManifestOf = (target: MinerTarget): Promise<Manifest | null> => {
      let manifest = read.get(target.hotkey);
      if (!manifest) {
        manifest = this.options.chain
          .commitment(this.options.netuid, target.hotkey)
          .then((raw) => (raw === null ? null : decodeManifestCommitment(raw, shortCodes).manifest));
        read.set(target.hotkey, manifest);
      }
      return manifest;
    };
    return {
      committedManifestOf,
      committableClasses: new Set(Object.keys(shortCodes)),
      ...(this.options.settings.manifestSource === 'commitment' ? { manifestOf: committedManifestOf } : {}),
    };
  }

  /**
   * The leader's batch: tasks of miners through the queue, run by every worker; resolves once each
   * task is final. Outcomes are stored by the workers, so the result carries no records.
   */
  private async runDistributedBatch(
    workers: ValidatorWorkerPool,
    cycle: CycleRange,
    targets: readonly MinerTarget[],
  ): Promise<BatchResult> {
    const summary = await workers.runBatch(
      cycle.index,
      targets,
      this.shutdown.signal,
      (tasks) => this.log.info({ cycle: cycle.index, miners: targets.length, tasks }, 'batch started on the workers'),
      // Reported once the tasks know their jobs (their miners' manifests), as a single process does.
      (jobs) => this.emit('batch-started', { cycle: cycle.index, miners: targets.length, jobs }),
    );
    // Tasks checked their own jobs; a GPU shared across tasks is only seen over the whole batch.
    const refused = await writeAcknowledged(
      'batch-wide GPU check',
      () => refuseSharedGpusAcrossTasks(this.store, cycle.index, targets, this.log),
      this.storeWrite({ cycle: cycle.index }),
    );
    if (refused > 0) this.log.warn({ cycle: cycle.index, jobs: refused }, 'jobs on GPUs shared across tasks lost their credit');
    if (summary.failedTasks > 0)
      this.log.warn(
        { cycle: cycle.index, failedTasks: summary.failedTasks, tasks: summary.tasks },
        'batch finished with tasks that failed on every attempt',
      );
    this.log.info(
      {
        cycle: cycle.index,
        miners: summary.miners,
        jobs: summary.jobs,
        outcomes: summary.outcomes,
        durationMs: summary.durationMs,
        tasks: summary.tasks,
      },
      'batch finished',
    );
    return { cycle: cycle.index, ...summary, records: [] };
  }

  async runBatch(cycleIndex?: number): Promise<BatchResult> {
    const index = cycleIndex ?? cycleOf(await this.options.chain.currentBlock(), this.options.settings.cycleLengthBlocks).index;
    this.batchesStarted.add(index);
    return this.track(this.startBatch(cycleByIndex(index, this.options.settings.cycleLengthBlocks)));
  }

  async scoreCycle(cycleIndex: number): Promise<ScoringResult> {
    this.state.phase = 'scoring';
    try {
      const metagraph = await this.options.chain.metagraph(this.options.netuid);
      const facts = await buildCycleFacts({
        store: this.store,
        transferredReceipts: this.transferredReceipts,
        scoredAt: this.options.clock.now(),
        cycle: cycleByIndex(cycleIndex, this.options.settings.cycleLengthBlocks),
        metagraph,
        hardwareClasses: this.options.hardwareClasses,
      });
      const result = runScoringPipeline(this.options.scoringRules, facts);
      const steps = result.steps.flatMap((step, index) =>
        Object.entries(step.table).flatMap(([hotkey, byClass]) =>
          Object.entries(byClass).map(([executorClass, points]) => ({ step: index, rule: step.rule, hotkey, executorClass, points })),
        ),
      );
      // The window's end, not now: a cycle scored again keeps its first scoring time (see buildCycleFacts).
      await writeAcknowledged(
        'scores',
        () => this.store.saveScores(cycleIndex, steps, result.weights, facts.window.toMs),
        this.storeWrite({ cycle: cycleIndex }),
      );
      this.cyclesScored.add(cycleIndex);
      this.state.lastScoredCycle = cycleIndex;
      this.log.info({ cycle: cycleIndex, hotkeys: result.weights.length, weighted: result.vector.length }, 'cycle scored');
      this.emit('cycle-scored', { cycle: cycleIndex, result });
      return result;
    } finally {
      this.state.phase = 'idle';
    }
  }

  async scoreAndSetWeights(cycleIndex: number): Promise<WeightSubmissionResult | null> {
    const scored = await this.scoreCycle(cycleIndex);
    if (scored.vector.length === 0) {
      this.log.warn({ cycle: cycleIndex }, 'no miner earned weight this cycle; nothing put on chain');
      this.emit('weights-set', { cycle: cycleIndex, result: null });
      return null;
    }
    const result = await this.weightSetter.submit(cycleIndex, scored.vector);
    this.state.lastWeights = { cycle: cycleIndex, result };
    this.emit('weights-set', { cycle: cycleIndex, result });
    return result;
  }

  async recordOrganicJob(record: OrganicJobRecord): Promise<void> {
    await this.store.recordOrganicJob(record, this.options.clock.now());
  }

  async crossCheckOrganic(jobUuid: string, spec: JobSpec, minerResult: JobResult): Promise<boolean | null> {
    if (!this.trustedMiner || !shouldCrossCheck(jobUuid, this.options.settings.organicCrossCheckFraction)) return null;
    const agrees = await crossCheckOrganicJob(spec, minerResult, this.trustedMiner);
    this.log.info({ jobUuid, agrees }, 'organic job cross-checked on the trusted miner');
    return agrees;
  }

  async revealWeights(): Promise<RevealResult[]> {
    const results = await this.weightSetter.revealDue();
    for (const result of results) {
      if (result.status === 'revealed') this.emit('weights-revealed', result);
      else
        this.log.debug({ commitBlock: result.commitBlock, status: result.status, error: result.error }, 'weight commit not revealed now');
    }
    return results;
  }

  progress(): ValidatorProgress {
    return { ...this.state };
  }

  /**
   * Stops following the chain, aborts the running batch (its jobs end at once and are not stored;
   * the batch is recorded `failed`), stops weight retries and closes the organic path. Returns
   * within moments, not after the batch's job limits.
   */
  async close(): Promise<void> {
    this.closed = true;
    if (this.leadTimer) clearTimeout(this.leadTimer);
    this.stopBlocks?.();
    await this.options.workers?.stopTaking();
    this.shutdown.abort();
    await this.organic?.close();
    await this.receiptTransfer?.close();
    await this.receiptVerifier?.close();
    await Promise.allSettled([...this.running]);
    await this.options.workers?.close();
  }
}

/**
 * Starts a validator. With `autoRun` (the default) it follows the chain's blocks: one batch per
 * cycle in its slot, scoring of the previous cycle when a new one begins, weights once per cycle,
 * reveals every few blocks. The handle emits progress events and allows driving steps by hand.
 */
export async function createValidator(options: ValidatorDeps): Promise<ValidatorHandle> {
  const validator = new Validator(options);
  await validator.closeInterrupted();
  if (options.autoRun !== false) validator.start();
  if (options.settings.organic.facilitatorUrl) validator.startOrganic();
  return validator;
}
