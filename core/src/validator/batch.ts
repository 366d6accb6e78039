import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import type { Clock, HardwareClass, JobGenerator, Logger, Manifest, TrustedMinerRunner } from '../contracts/index.js';
import type { Hotkey } from '../keys/index.js';
import type { CycleRange } from './cycles.js';
import { definedFields } from '../object/defined-fields.js';
import { BatchScope } from './batch-scope.js';
import { BatchAbortedError } from './errors.js';
import { refuseSharedGpus } from './gpu-registry.js';
import { ValidatorJobDriver, type JobRecord, type ValidatorJobLimits } from './job-driver.js';
import { MinerConnection, type JobInboxLimits, type MinerTarget } from './miner-client.js';
import { manifestsDisagree } from './manifest-crosscheck.js';
import type { ManifestContradiction, ValidatorStore } from './store.js';
import { writeAcknowledged } from './store-writes.js';

export interface BatchSettings {
  readonly limits: ValidatorJobLimits;
  readonly manifestTimeoutMs: number;
  readonly mainHotkeyTimeoutMs: number;
  readonly connectConcurrency: number;
  readonly generateConcurrency: number;
  readonly verifyConcurrency: number;
  /** Most jobs per miner and class; 0 = as many as declared. */
  readonly maxExecutorsPerClass: number;
  /** Bounds on each job's queued miner messages (default `DEFAULT_JOB_INBOX_LIMITS`). */
  readonly jobInbox?: JobInboxLimits;
}

export interface BatchHooks {
  onBatchStarted?(event: { cycle: number; miners: number; jobs: number }): void;
  onJobFinished?(record: JobRecord): void;
}

export interface BatchDeps {
  readonly validator: Hotkey;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly store: ValidatorStore;
  readonly generators: readonly JobGenerator[];
  readonly hardwareClasses: readonly HardwareClass[];
  readonly settings: BatchSettings;
  readonly trustedMiner?: TrustedMinerRunner;
  /** Manifest from elsewhere (the on-chain commitment); null falls back to the websocket one. */
  readonly manifestOf?: (target: MinerTarget) => Promise<Manifest | null>;
  /**
   * The miner's manifest commitment on chain (null: it has none). When given, a served manifest
   * that disagrees with it is recorded as a contradiction (`saveManifestContradictions`): the
   * dancing check pays no bonus on it.
   */
  readonly committedManifestOf?: (target: MinerTarget) => Promise<Manifest | null>;
  /** Executor classes a commitment can express (those with a short code); others are not compared. */
  readonly committableClasses?: ReadonlySet<string>;
  readonly hooks?: BatchHooks;
  /**
   * The batch is one task of a larger one (validator workers): manifests are replaced for these
   * targets only, not for the whole cycle.
   */
  readonly partOfBatch?: boolean;
  /**
   * Stops the batch (the validator is shutting down): connections are dropped, every open job
   * ends at once, and `runBatch` rejects with `BatchAbortedError` without storing job outcomes.
   */
  readonly signal?: AbortSignal;
}

export interface BatchResult {
  readonly cycle: number;
  /** Miners that answered with a manifest. */
  readonly miners: number;
  readonly jobs: number;
  /** Jobs by end state. */
  readonly outcomes: Readonly<Record<string, number>>;
  /** From the first initial request to the last finished receipt. */
  readonly durationMs: number;
  /** Longest time a job took from its job request to its result. */
  readonly longestJobMs: number;
  /** `durationMs` minus the deliberate stagger and the longest job: what the batch machinery cost. */
  readonly overheadMs: number;
  readonly records: readonly JobRecord[];
}

/** The generator that proves a class: the first of `proof.jobGenerators` that supports it, else any that does. */
export function generatorFor(hardwareClass: HardwareClass, generators: readonly JobGenerator[]): JobGenerator | undefined {
  for (const name of hardwareClass.proof.jobGenerators) {
    const generator = generators.find((candidate) => candidate.name === name && candidate.supports(hardwareClass));
    if (generator) return generator;
  }
  return generators.find((candidate) => candidate.supports(hardwareClass));
}

interface PlannedJob {
  readonly connection: MinerConnection;
  readonly hardwareClass: HardwareClass;
  readonly generator: JobGenerator;
}

/** What step 1 found: the miners that answered, in target order, and the manifest of each. */
interface MinerFacts {
  readonly connections: readonly MinerConnection[];
  readonly manifests: ReadonlyMap<string, Manifest>;
  readonly contradictions: readonly ManifestContradiction[];
}

/** The initial requests as sent: the jobs and the longest deliberate delay before one. */
interface SentRequests {
  readonly firstInitialAt: number;
  readonly staggerMs: number;
}

/**
 * One synthetic batch (ComputeHorde's `batch_run`): connect to every miner and take its manifest,
 * ask each coldkey's main hotkey, generate one job per declared executor, send the initial
 * requests staggered by class spin-up time so every executor becomes ready at about the same time,
 * wait at the barrier, send every job request at once, collect and verify the results, send
 * finished receipts and store every outcome. Concurrency is bounded at each step (connections,
 * generation, verification); job payloads (command, env, inline volume) are dropped once sent,
 * keeping only what verification and the record need.
 *
 * With `deps.signal` aborted, the batch ends within moments whatever step it is in: connection
 * attempts give up, open connections are dropped (every waiting job ends), the stagger sleep and
 * waits on generators and verifiers are cut short (their work runs on detached), and the call
 * rejects with `BatchAbortedError`. Manifests and main hotkeys already stored stay; job outcomes
 * are *not* stored, since the miners did nothing wrong: the batch counts as failed and is not scored.
 */
export async function runBatch(cycle: CycleRange, targets: readonly MinerTarget[], deps: BatchDeps): Promise<BatchResult> {
  if (deps.signal?.aborted) throw new BatchAbortedError();
  const scope = new BatchScope(deps.signal);
  try {
    return await new SyntheticBatch(cycle, targets, deps, scope).run();
  } finally {
    scope.close();
  }
}

/** The steps of `runBatch`, one method each, in the order `run` takes them; `scope` owns stopping. */
class SyntheticBatch {
  private readonly log: Logger;

  constructor(
    private readonly cycle: CycleRange,
    private readonly targets: readonly MinerTarget[],
    private readonly deps: BatchDeps,
    private readonly scope: BatchScope,
  ) {
    this.log = deps.logger.child({ cycle: cycle.index });
  }

  async run(): Promise<BatchResult> {
    const miners = await this.readManifests(await this.connect());
    await this.storeMinerFacts(miners, await this.askMainHotkeys(miners.connections));
    const planned = this.plan(miners);
    const drivers = await this.generate(planned, await this.prepareGenerators(planned));
    this.deps.hooks?.onBatchStarted?.({ cycle: this.cycle.index, miners: miners.connections.length, jobs: drivers.length });
    this.log.info({ miners: miners.connections.length, jobs: drivers.length }, 'batch started');
    const sent = await this.sendInitialRequests(drivers);
    // 6. Barrier passed: every job request goes out at once.
    for (const driver of drivers) driver.sendJob();
    const collected = await this.collect(drivers);
    const { records, lastReceiptAt } = await this.storeOutcomes(miners.connections, collected);
    return this.summary(miners.connections.length, drivers.length, records, sent, lastReceiptAt);
  }

  /** 1a. A connection to every target that answers, in target order, whatever order they came in. */
  private async connect(): Promise<MinerConnection[]> {
    const { settings } = this.deps;
    const { scope, log } = this;
    const connections: MinerConnection[] = [];
    const connectLimit = pLimit(settings.connectConcurrency);
    await Promise.all(
      this.targets.map((target) =>
        connectLimit(async () => {
          if (scope.aborted) return;
          try {
            const connection = await MinerConnection.connect(target, {
              validator: this.deps.validator,
              clock: this.deps.clock,
              logger: log,
              timeoutMs: settings.manifestTimeoutMs,
              signal: scope.signal,
              inboxLimits: settings.jobInbox,
            });
            connections.push(connection);
            scope.adopt(connection);
          } catch (error) {
            if (!scope.aborted) log.info({ minerHotkey: target.hotkey, err: (error as Error).message }, 'miner skipped this batch');
          }
        }),
      ),
    );
    scope.throwIfAborted();
    const order = new Map(this.targets.map((target, index) => [target, index]));
    return connections.sort((a, b) => (order.get(a.target) ?? 0) - (order.get(b.target) ?? 0));
  }

  /**
   * 1b. Each miner's manifest: the override (`manifestOf`) or the one it served, the served one
   * cross-checked against its chain commitment when there is one.
   */
  private async readManifests(connections: readonly MinerConnection[]): Promise<MinerFacts> {
    const { deps, log } = this;
    const manifests = new Map<string, Manifest>();
    const contradictions: ManifestContradiction[] = [];
    await this.scope.until(
      Promise.all(
        connections.map(async (connection) => {
          const [override, committed] = await Promise.all([
            deps.manifestOf ? deps.manifestOf(connection.target).catch(() => null) : null,
            deps.committedManifestOf
              ? deps.committedManifestOf(connection.target).catch((error: unknown) => {
                  log.info(
                    { minerHotkey: connection.target.hotkey, err: (error as Error).message },
                    'could not read the manifest commitment; served manifest not cross-checked',
                  );
                  return null;
                })
              : null,
          ]);
          manifests.set(connection.target.hotkey, override ?? connection.manifest);
          if (committed !== null && manifestsDisagree(connection.manifest, committed, deps.committableClasses)) {
            log.warn(
              { minerHotkey: connection.target.hotkey, served: connection.manifest, committed },
              "served manifest contradicts the miner's chain commitment: no dancing bonus rests on it",
            );
            contradictions.push({ minerHotkey: connection.target.hotkey, served: connection.manifest, committed });
          }
        }),
      ),
    );
    return { connections, manifests, contradictions };
  }

  /** 2a. Main hotkeys (dancing): the first answer per coldkey wins. */
  private async askMainHotkeys(connections: readonly MinerConnection[]): Promise<Map<string, { mainHotkey: string; reportedBy: string }>> {
    const answers = await Promise.all(
      connections
        .filter((connection) => connection.target.coldkey !== null)
        .map(async (connection) => ({
          connection,
          mainHotkey: await connection.mainHotkey(this.deps.settings.mainHotkeyTimeoutMs),
        })),
    );
    this.scope.throwIfAborted();
    const mainHotkeys = new Map<string, { mainHotkey: string; reportedBy: string }>();
    for (const { connection, mainHotkey } of answers) {
      const coldkey = connection.target.coldkey as string;
      if (mainHotkey && !mainHotkeys.has(coldkey)) mainHotkeys.set(coldkey, { mainHotkey, reportedBy: connection.target.hotkey });
    }
    return mainHotkeys;
  }

  /** 2b. Manifests, contradictions and main hotkeys are stored whatever becomes of the jobs. */
  private async storeMinerFacts(
    miners: MinerFacts,
    mainHotkeys: ReadonlyMap<string, { mainHotkey: string; reportedBy: string }>,
  ): Promise<void> {
    const { store, clock } = this.deps;
    const index = this.cycle.index;
    await store.saveManifests(index, miners.manifests, this.deps.partOfBatch ? this.targets.map((target) => target.hotkey) : undefined);
    if (this.deps.committedManifestOf) await store.saveManifestContradictions(index, miners.contradictions, clock.now());
    await store.saveMainHotkeys(
      index,
      [...mainHotkeys].map(([coldkey, entry]) => ({ coldkey, ...entry })),
    );
  }

  /** 3. One job per declared executor, for classes the validator knows how to prove. */
  private plan(miners: MinerFacts): PlannedJob[] {
    const { settings } = this.deps;
    const classes = new Map(this.deps.hardwareClasses.map((hardwareClass) => [hardwareClass.id, hardwareClass]));
    const planned: PlannedJob[] = [];
    for (const connection of miners.connections) {
      for (const [classId, count] of Object.entries(miners.manifests.get(connection.target.hotkey) ?? {})) {
        const hardwareClass = classes.get(classId);
        const generator = hardwareClass ? generatorFor(hardwareClass, this.deps.generators) : undefined;
        if (!hardwareClass || !generator) {
          if (count > 0)
            this.log.debug({ minerHotkey: connection.target.hotkey, executorClass: classId }, 'no generator for this class; not tested');
          continue;
        }
        const jobs = settings.maxExecutorsPerClass > 0 ? Math.min(count, settings.maxExecutorsPerClass) : count;
        for (let i = 0; i < jobs; i++) planned.push({ connection, hardwareClass, generator });
      }
    }
    return planned;
  }

  /** 4a. Generators get ready (ground truth from the trusted miner); returns those that could not. */
  private async prepareGenerators(planned: readonly PlannedJob[]): Promise<Set<JobGenerator>> {
    const failed = new Set<JobGenerator>();
    for (const generator of new Set(planned.map((job) => job.generator))) {
      const executorClasses = [...new Set(planned.filter((job) => job.generator === generator).map((job) => job.hardwareClass))];
      try {
        await this.scope.until(
          Promise.resolve().then(() =>
            generator.prepare?.({ cycle: this.cycle.index, executorClasses, ...definedFields({ trustedMiner: this.deps.trustedMiner }) }),
          ),
        );
      } catch (error) {
        this.scope.throwIfAborted();
        failed.add(generator);
        this.log.error({ generator: generator.name, err: error }, 'generator could not prepare; its classes are not tested this cycle');
      }
    }
    return failed;
  }

  /** 4b. The jobs, made by their generators; a job whose generation fails is left out. */
  private async generate(planned: readonly PlannedJob[], failedGenerators: ReadonlySet<JobGenerator>): Promise<ValidatorJobDriver[]> {
    const { settings, clock } = this.deps;
    const { scope, log } = this;
    const index = this.cycle.index;
    const verifyLimit = pLimit(settings.verifyConcurrency);
    const generateLimit = pLimit(settings.generateConcurrency);
    const generated = await Promise.all(
      planned
        .filter((job) => !failedGenerators.has(job.generator))
        .map((job) =>
          generateLimit(async () => {
            if (scope.aborted) return null;
            const jobUuid = randomUUID();
            try {
              const generatedJob = await job.generator.generate({
                jobUuid,
                minerHotkey: job.connection.target.hotkey,
                executorClass: job.hardwareClass,
                cycle: index,
              });
              return new ValidatorJobDriver(jobUuid, generatedJob, {
                connection: job.connection,
                validator: this.deps.validator,
                clock,
                logger: log,
                hardwareClass: job.hardwareClass,
                cycle: index,
                generator: job.generator.name,
                kind: 'synthetic',
                checkSpecs: true,
                limits: settings.limits,
                verifyLimit,
                signal: scope.signal,
              });
            } catch (error) {
              log.error({ generator: job.generator.name, jobUuid, err: error }, 'job generation failed');
              return null;
            }
          }),
        ),
    );
    const drivers = generated.filter((driver): driver is ValidatorJobDriver => driver !== null);
    if (scope.aborted) {
      for (const driver of drivers) driver.abandon('aborted before the batch started: the validator is shutting down');
      scope.throwIfAborted();
    }
    return drivers;
  }

  /** 5. Initial requests, slow classes first so every executor is ready at about the same time. */
  private async sendInitialRequests(drivers: readonly ValidatorJobDriver[]): Promise<SentRequests> {
    const { clock } = this.deps;
    const maxSpinUp = Math.max(0, ...drivers.map((driver) => driver.hardwareClassSpinUp));
    const firstInitialAt = clock.now();
    const byDelay = new Map<number, ValidatorJobDriver[]>();
    for (const driver of drivers) {
      const delay = (maxSpinUp - driver.hardwareClassSpinUp) * 1000;
      byDelay.set(delay, [...(byDelay.get(delay) ?? []), driver]);
    }
    await Promise.all(
      [...byDelay].map(async ([delay, group]) => {
        if (delay > 0) await this.scope.sleep(clock, delay);
        if (this.scope.aborted) {
          for (const driver of group) driver.abandon('aborted before the initial request: the validator is shutting down');
          return;
        }
        await Promise.all(group.map((driver) => driver.reserve()));
      }),
    );
    return { firstInitialAt, staggerMs: Math.max(0, ...byDelay.keys()) };
  }

  /** 7. Results, verification, finished receipts; a stopped batch ends here, its outcomes unstored. */
  private async collect(drivers: readonly ValidatorJobDriver[]): Promise<JobRecord[]> {
    const collected = await Promise.all(
      drivers.map(async (driver) => {
        await driver.collect();
        const record = driver.record();
        // Live progress; the GPU registry below may still take a job's credit away in the stored outcome.
        if (!this.scope.aborted) this.deps.hooks?.onJobFinished?.(record);
        return record;
      }),
    );
    if (this.scope.aborted) {
      this.log.info({ jobs: drivers.length }, 'batch aborted: the validator is shutting down; job outcomes not stored');
      throw new BatchAbortedError();
    }
    return collected;
  }

  /**
   * 8. One GPU, one credit: a GPU UUID behind miners of different coldkeys earns none of them
   * anything. Then every outcome is stored.
   */
  private async storeOutcomes(
    connections: readonly MinerConnection[],
    collected: readonly JobRecord[],
  ): Promise<{ records: readonly JobRecord[]; lastReceiptAt: number }> {
    const { store, clock } = this.deps;
    const log = this.log;
    const coldkeys = new Map(
      connections.map((connection) => [connection.target.hotkey, connection.target.coldkey ?? connection.target.hotkey]),
    );
    const { records, shared } = refuseSharedGpus(collected, (hotkey) => coldkeys.get(hotkey) ?? hotkey);
    for (const gpu of shared) {
      log.warn(
        { gpuUuid: gpu.uuid, servedBy: Object.fromEntries(gpu.servedBy) },
        'one GPU served by miners of different coldkeys; their jobs on it get no credit',
      );
    }
    const lastReceiptAt = clock.now();
    // The miners hold these outcomes' finished receipts already: a store restart must not lose them.
    await writeAcknowledged('job outcomes', () => store.saveJobs(records, lastReceiptAt), {
      logger: log,
      signal: this.scope.signal,
      fields: { jobs: records.length },
    });
    return { records, lastReceiptAt };
  }

  /** 9. The batch in numbers. */
  private summary(miners: number, jobs: number, records: readonly JobRecord[], sent: SentRequests, lastReceiptAt: number): BatchResult {
    const outcomes: Record<string, number> = {};
    for (const record of records) outcomes[record.status] = (outcomes[record.status] ?? 0) + 1;
    const longestJobMs = Math.max(0, ...records.map((record) => record.timeTookMs ?? 0));
    const durationMs = jobs > 0 ? lastReceiptAt - sent.firstInitialAt : 0;
    const result: BatchResult = {
      cycle: this.cycle.index,
      miners,
      jobs,
      outcomes,
      durationMs,
      longestJobMs,
      overheadMs: Math.max(0, durationMs - sent.staggerMs - longestJobMs),
      records,
    };
    this.log.info({ miners, jobs, outcomes, durationMs, overheadMs: result.overheadMs }, 'batch finished');
    return result;
  }
}
