import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import type { Clock, HardwareClass, JobGenerator, Logger, Manifest, TrustedMinerRunner } from '../contracts/index.js';
import type { Hotkey } from '../keys/index.js';
import type { CycleRange } from './cycles.js';
import { JobRun, type JobRecord, type JobRunLimits } from './job-run.js';
import { MinerConnection, type MinerTarget } from './miner-client.js';
import type { ValidatorStore } from './store.js';

export interface BatchSettings {
  readonly limits: JobRunLimits;
  readonly manifestTimeoutMs: number;
  readonly mainHotkeyTimeoutMs: number;
  readonly connectConcurrency: number;
  readonly generateConcurrency: number;
  readonly verifyConcurrency: number;
  /** Most jobs per miner and class; 0 = as many as declared. */
  readonly maxExecutorsPerClass: number;
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
  readonly hooks?: BatchHooks;
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
 * generation, verification); job payloads are dropped once sent.
 */
export async function runBatch(cycle: CycleRange, targets: readonly MinerTarget[], deps: BatchDeps): Promise<BatchResult> {
  const { clock, logger, store, settings } = deps;
  const log = logger.child({ cycle: cycle.index });
  const classes = new Map(deps.hardwareClasses.map((hardwareClass) => [hardwareClass.id, hardwareClass]));

  // 1. Connections and manifests.
  const connectLimit = pLimit(settings.connectConcurrency);
  const connected = await Promise.all(
    targets.map((target) =>
      connectLimit(async () => {
        try {
          return await MinerConnection.connect(target, { validator: deps.validator, clock, logger: log, timeoutMs: settings.manifestTimeoutMs });
        } catch (error) {
          log.info({ minerHotkey: target.hotkey, err: (error as Error).message }, 'miner skipped this batch');
          return null;
        }
      }),
    ),
  );
  const connections = connected.filter((connection): connection is MinerConnection => connection !== null);
  const manifests = new Map<string, Manifest>();
  await Promise.all(
    connections.map(async (connection) => {
      const override = deps.manifestOf ? await deps.manifestOf(connection.target).catch(() => null) : null;
      manifests.set(connection.target.hotkey, override ?? connection.manifest);
    }),
  );

  try {
    // 2. Main hotkeys (dancing): the first answer per coldkey wins.
    const answers = await Promise.all(
      connections
        .filter((connection) => connection.target.coldkey !== null)
        .map(async (connection) => ({ connection, mainHotkey: await connection.mainHotkey(settings.mainHotkeyTimeoutMs) })),
    );
    const mainHotkeys = new Map<string, { mainHotkey: string; reportedBy: string }>();
    for (const { connection, mainHotkey } of answers) {
      const coldkey = connection.target.coldkey as string;
      if (mainHotkey && !mainHotkeys.has(coldkey)) mainHotkeys.set(coldkey, { mainHotkey, reportedBy: connection.target.hotkey });
    }
    await store.saveManifests(cycle.index, manifests);
    await store.saveMainHotkeys(cycle.index, [...mainHotkeys].map(([coldkey, entry]) => ({ coldkey, ...entry })));

    // 3. One job per declared executor, for classes the validator knows how to prove.
    const planned: PlannedJob[] = [];
    for (const connection of connections) {
      for (const [classId, count] of Object.entries(manifests.get(connection.target.hotkey) ?? {})) {
        const hardwareClass = classes.get(classId);
        const generator = hardwareClass ? generatorFor(hardwareClass, deps.generators) : undefined;
        if (!hardwareClass || !generator) {
          if (count > 0) log.debug({ minerHotkey: connection.target.hotkey, executorClass: classId }, 'no generator for this class; not tested');
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
        await generator.prepare?.({ cycle: cycle.index, executorClasses, ...(deps.trustedMiner ? { trustedMiner: deps.trustedMiner } : {}) });
      } catch (error) {
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
            const jobUuid = randomUUID();
            try {
              const generatedJob = await job.generator.generate({ jobUuid, minerHotkey: job.connection.target.hotkey, executorClass: job.hardwareClass, cycle: cycle.index });
              return new JobRun(jobUuid, generatedJob, {
                connection: job.connection,
                validator: deps.validator,
                clock,
                logger: log,
                hardwareClass: job.hardwareClass,
                cycle: cycle.index,
                generator: job.generator.name,
                kind: 'synthetic',
                limits: settings.limits,
                verifyLimit,
              });
            } catch (error) {
              log.error({ generator: job.generator.name, jobUuid, err: error }, 'job generation failed');
              return null;
            }
          }),
        ),
    );
    const runs = generated.filter((run): run is JobRun => run !== null);
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
        if (delay > 0) await clock.sleep(delay);
        await Promise.all(group.map((run) => run.reserve()));
      }),
    );

    // 6. Barrier passed: every job request goes out at once.
    for (const run of runs) run.sendJob();

    // 7. Results, verification, finished receipts.
    const records = await Promise.all(
      runs.map(async (run) => {
        await run.collect();
        const record = run.record();
        deps.hooks?.onJobFinished?.(record);
        return record;
      }),
    );
    const lastReceiptAt = clock.now();
    await store.saveJobs(records, lastReceiptAt);

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
    for (const connection of connections) connection.close();
  }
}
