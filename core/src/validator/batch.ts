import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import pLimit from 'p-limit';
import type { Clock, HardwareClass, JobGenerator, Logger, Manifest, TrustedMinerRunner } from '../contracts/index.js';
import type { Hotkey } from '../keys/index.js';
import type { CycleRange } from './cycles.js';
import { untilAborted } from './abortable.js';
import { BatchAbortedError } from './errors.js';
import { refuseSharedGpus } from './gpu-registry.js';
import { JobRun, type JobRecord, type JobRunLimits } from './job-run.js';
import { MinerConnection, type JobInboxLimits, type MinerTarget } from './miner-client.js';
import { manifestsDisagree } from './manifest-crosscheck.js';
import type { ManifestContradiction, ValidatorStore } from './store.js';
import { writeAcknowledged } from './store-writes.js';

export interface BatchSettings {
  readonly limits: JobRunLimits;
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
  const { clock, logger, store, settings } = deps;
  const log = logger.child({ cycle: cycle.index });
  const classes = new Map(deps.hardwareClasses.map((hardwareClass) => [hardwareClass.id, hardwareClass]));
  if (deps.signal?.aborted) throw new BatchAbortedError();
  // The batch's own signal, followed by every job and wait of the batch (thousands of listeners,
  // which the caller's signal would warn about); it aborts when the caller's does.
  const batchAbort = deps.signal ? new AbortController() : null;
  const signal = batchAbort?.signal;
  const abortBatch = () => batchAbort?.abort();
  if (signal) {
    setMaxListeners(0, signal);
    deps.signal?.addEventListener('abort', abortBatch, { once: true });
  }

  // Every connection made, so an abort can drop them all (and the `finally` close them).
  const connections: MinerConnection[] = [];
  const dropConnections = () => {
    for (const connection of connections) connection.close({ immediately: true });
  };
  signal?.addEventListener('abort', dropConnections, { once: true });
  const throwIfAborted = () => {
    if (signal?.aborted) throw new BatchAbortedError();
  };

  try {
    // 1. Connections and manifests.
    const connectLimit = pLimit(settings.connectConcurrency);
    await Promise.all(
      targets.map((target) =>
        connectLimit(async () => {
          if (signal?.aborted) return;
          try {
            const connection = await MinerConnection.connect(target, {
              validator: deps.validator,
              clock,
              logger: log,
              timeoutMs: settings.manifestTimeoutMs,
              ...(signal ? { signal } : {}),
              ...(settings.jobInbox ? { inboxLimits: settings.jobInbox } : {}),
            });
            connections.push(connection);
            if (signal?.aborted) connection.close({ immediately: true });
          } catch (error) {
            if (!signal?.aborted) log.info({ minerHotkey: target.hotkey, err: (error as Error).message }, 'miner skipped this batch');
          }
        }),
      ),
    );
    throwIfAborted();
    // In target order, whatever order the connections came in.
    const order = new Map(targets.map((target, index) => [target, index]));
    connections.sort((a, b) => (order.get(a.target) ?? 0) - (order.get(b.target) ?? 0));
    const manifests = new Map<string, Manifest>();
    const contradictions: ManifestContradiction[] = [];
    await untilAborted(
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
      signal,
    );

    // 2. Main hotkeys (dancing): the first answer per coldkey wins.
    const answers = await Promise.all(
      connections
        .filter((connection) => connection.target.coldkey !== null)
        .map(async (connection) => ({ connection, mainHotkey: await connection.mainHotkey(settings.mainHotkeyTimeoutMs) })),
    );
    throwIfAborted();
    const mainHotkeys = new Map<string, { mainHotkey: string; reportedBy: string }>();
    for (const { connection, mainHotkey } of answers) {
      const coldkey = connection.target.coldkey as string;
      if (mainHotkey && !mainHotkeys.has(coldkey)) mainHotkeys.set(coldkey, { mainHotkey, reportedBy: connection.target.hotkey });
    }
    await store.saveManifests(cycle.index, manifests, deps.partOfBatch ? targets.map((target) => target.hotkey) : undefined);
    if (deps.committedManifestOf) await store.saveManifestContradictions(cycle.index, contradictions, clock.now());
    await store.saveMainHotkeys(
      cycle.index,
      [...mainHotkeys].map(([coldkey, entry]) => ({ coldkey, ...entry })),
    );

    // 3. One job per declared executor, for classes the validator knows how to prove.
    const planned: PlannedJob[] = [];
    for (const connection of connections) {
      for (const [classId, count] of Object.entries(manifests.get(connection.target.hotkey) ?? {})) {
        const hardwareClass = classes.get(classId);
        const generator = hardwareClass ? generatorFor(hardwareClass, deps.generators) : undefined;
        if (!hardwareClass || !generator) {
          if (count > 0)
            log.debug({ minerHotkey: connection.target.hotkey, executorClass: classId }, 'no generator for this class; not tested');
          continue;
        }
        const jobs = settings.maxExecutorsPerClass > 0 ? Math.min(count, settings.maxExecutorsPerClass) : count;
        for (let i = 0; i < jobs; i++) planned.push({ connection, hardwareClass, generator });
      }
    }

    // 4. Generators get ready (ground truth from the trusted miner), then make the jobs.
    const failedGenerators = new Set<JobGenerator>();
    for (const generator of new Set(planned.map((job) => job.generator))) {
      const executorClasses = [...new Set(planned.filter((job) => job.generator === generator).map((job) => job.hardwareClass))];
      try {
        await untilAborted(
          Promise.resolve().then(() =>
            generator.prepare?.({ cycle: cycle.index, executorClasses, ...(deps.trustedMiner ? { trustedMiner: deps.trustedMiner } : {}) }),
          ),
          signal,
        );
      } catch (error) {
        throwIfAborted();
        failedGenerators.add(generator);
        log.error({ generator: generator.name, err: error }, 'generator could not prepare; its classes are not tested this cycle');
      }
    }
    const verifyLimit = pLimit(settings.verifyConcurrency);
    const generateLimit = pLimit(settings.generateConcurrency);
    const generated = await Promise.all(
      planned
        .filter((job) => !failedGenerators.has(job.generator))
        .map((job) =>
          generateLimit(async () => {
            if (signal?.aborted) return null;
            const jobUuid = randomUUID();
            try {
              const generatedJob = await job.generator.generate({
                jobUuid,
                minerHotkey: job.connection.target.hotkey,
                executorClass: job.hardwareClass,
                cycle: cycle.index,
              });
              return new JobRun(jobUuid, generatedJob, {
                connection: job.connection,
                validator: deps.validator,
                clock,
                logger: log,
                hardwareClass: job.hardwareClass,
                cycle: cycle.index,
                generator: job.generator.name,
                kind: 'synthetic',
                checkSpecs: true,
                limits: settings.limits,
                verifyLimit,
                ...(signal ? { signal } : {}),
              });
            } catch (error) {
              log.error({ generator: job.generator.name, jobUuid, err: error }, 'job generation failed');
              return null;
            }
          }),
        ),
    );
    const runs = generated.filter((run): run is JobRun => run !== null);
    if (signal?.aborted) {
      for (const run of runs) run.abandon('aborted before the batch started: the validator is shutting down');
      throwIfAborted();
    }
    deps.hooks?.onBatchStarted?.({ cycle: cycle.index, miners: connections.length, jobs: runs.length });
    log.info({ miners: connections.length, jobs: runs.length }, 'batch started');

    // 5. Initial requests, slow classes first so every executor is ready at about the same time.
    const maxSpinUp = Math.max(0, ...runs.map((run) => run.hardwareClassSpinUp));
    const firstInitialAt = clock.now();
    const byDelay = new Map<number, JobRun[]>();
    for (const run of runs) {
      const delay = (maxSpinUp - run.hardwareClassSpinUp) * 1000;
      byDelay.set(delay, [...(byDelay.get(delay) ?? []), run]);
    }
    await Promise.all(
      [...byDelay].map(async ([delay, group]) => {
        if (delay > 0) await clock.sleep(delay, signal).catch(() => undefined);
        if (signal?.aborted) {
          for (const run of group) run.abandon('aborted before the initial request: the validator is shutting down');
          return;
        }
        await Promise.all(group.map((run) => run.reserve()));
      }),
    );

    // 6. Barrier passed: every job request goes out at once.
    for (const run of runs) run.sendJob();

    // 7. Results, verification, finished receipts.
    const collected = await Promise.all(
      runs.map(async (run) => {
        await run.collect();
        const record = run.record();
        // Live progress; the GPU registry below may still take a job's credit away in the stored outcome.
        if (!signal?.aborted) deps.hooks?.onJobFinished?.(record);
        return record;
      }),
    );
    if (signal?.aborted) {
      log.info({ jobs: runs.length }, 'batch aborted: the validator is shutting down; job outcomes not stored');
      throw new BatchAbortedError();
    }
    // 8. One GPU, one credit: a GPU UUID behind miners of different coldkeys earns none of them anything.
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
      signal,
      fields: { jobs: records.length },
    });

    const outcomes: Record<string, number> = {};
    for (const record of records) outcomes[record.status] = (outcomes[record.status] ?? 0) + 1;
    const longestJobMs = Math.max(0, ...records.map((record) => record.timeTookMs ?? 0));
    const durationMs = runs.length > 0 ? lastReceiptAt - firstInitialAt : 0;
    const staggerMs = Math.max(0, ...byDelay.keys());
    const result: BatchResult = {
      cycle: cycle.index,
      miners: connections.length,
      jobs: runs.length,
      outcomes,
      durationMs,
      longestJobMs,
      overheadMs: Math.max(0, durationMs - staggerMs - longestJobMs),
      records,
    };
    log.info({ miners: result.miners, jobs: result.jobs, outcomes, durationMs, overheadMs: result.overheadMs }, 'batch finished');
    return result;
  } finally {
    deps.signal?.removeEventListener('abort', abortBatch);
    signal?.removeEventListener('abort', dropConnections);
    for (const connection of connections) connection.close({ immediately: signal?.aborted ?? false });
  }
}
