import { makeInlineVolume } from '@horde/core';
import type {
  GenerateRequest,
  GeneratedJob,
  HardwareClass,
  JobGenerator,
  JobResult,
  JobSpec,
  Logger,
  PrepareContext,
  TrustedMinerRunner,
  Verdict,
} from '@horde/core';
import { ALGORITHMS, checkParams, createChallenge, type Challenge, type CrackParams } from './challenge.js';
import { MeasuredRates } from './measured-rates.js';
import { DEFAULT_CLASS_PARAMS, DEFAULT_GPU_IMAGE, DEFAULT_IMAGE, GPU_SIZING, type ClassParams } from './params.js';
import { GPU_HASH_RATES, type HashRates } from './rates.js';
import { classRates, sizeChallenge, type SizingPolicy } from './sizing.js';

export const HASH_CRACK = 'hash-crack';

export interface HashCrackOptions {
  /** Image for classes that name none; the process runner maps it to `job/crack.mjs`. */
  readonly image?: string;
  /** Challenge size and time bound per class id, merged over `DEFAULT_CLASS_PARAMS`. */
  readonly classes?: Readonly<Record<string, ClassParams>>;
  /**
   * Hash rates per GPU model, merged over `GPU_HASH_RATES`. A class without explicit `classes`
   * parameters whose `resources.gpu.models` are all known here gets a challenge sized for the
   * slowest of them (`sizing.ts`).
   */
  readonly rates?: Readonly<Record<string, HashRates>>;
  /** How rate-sized classes are sized (bound, overhead, margin); defaults `GPU_SIZING`. */
  readonly sizing?: Partial<Omit<SizingPolicy, 'algorithms'>>;
  /**
   * The trusted miner's measured rates per class (`measured-rates.ts`); rate-sized classes are
   * sized from the table's rate times the measured factor. Default: in memory only.
   */
  readonly measuredRates?: MeasuredRates;
  /**
   * Calibration in `prepare`: with a trusted miner, each rate-sized class of the batch gets two
   * start-up-only jobs and a job of `seconds` of hashing at the expected rate on the trusted miner;
   * the difference gives the measured rate. `false`: the table alone.
   */
  readonly calibration?: { readonly seconds: number } | false;
  readonly logger?: Logger;
  /** Stage limits around the execution (seconds); execution itself gets the class's time bound. */
  readonly downloadTimeLimitSeconds?: number;
  readonly uploadTimeLimitSeconds?: number;
  readonly allowedLeewaySeconds?: number;
}

/** The last non-empty line of the job's stdout: the answer (anything printed before it is ignored). */
function printedAnswer(stdout: string): string {
  const lines = stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  return lines.at(-1) ?? '';
}

/** Judges one result against the answer the validator computed when it made the job. */
export function judgeAnswer(result: JobResult, answer: string, timeLimitSeconds: number): Verdict {
  const printed = printedAnswer(result.stdout);
  const correct = printed === answer;
  const inTime = result.timeTookMs <= timeLimitSeconds * 1000;
  const took = `${(result.timeTookMs / 1000).toFixed(2)} s of ${timeLimitSeconds} s`;
  const details = correct
    ? `answer correct, ${took}`
    : printed === ''
      ? `no answer printed, ${took}`
      : `wrong answer ${printed.slice(0, 16)}…, ${took}`;
  return { correct, inTime, details };
}

/**
 * The hash-cracking synthetic job (ComputeHorde's hashcat job): the validator hides random
 * passwords behind salted SHA-2 hashes in chained, encrypted batches, sends them in the initial
 * request's volume and the first key with the job request, and expects the digest of every
 * password back within the class's time bound. It knows the answer, so no trusted miner is needed
 * to judge; where there is one, `prepare` uses it to measure the GPU classes' real hash rates.
 */
export class HashCrackGenerator implements JobGenerator {
  readonly name = HASH_CRACK;
  private readonly classes: Readonly<Record<string, ClassParams>>;
  private readonly rates: ReadonlyMap<string, HashRates>;
  private readonly sizing: SizingPolicy;
  /** Rate-sized parameters per class id, computed on first use and again after each calibration. */
  private readonly sized = new Map<string, (ClassParams & { readonly timeLimitSeconds: number }) | null>();
  private readonly measured: MeasuredRates;
  private measuredLoaded: Promise<void> | null = null;

  constructor(private readonly options: HashCrackOptions = {}) {
    this.classes = { ...DEFAULT_CLASS_PARAMS, ...options.classes };
    this.rates = new Map([...GPU_HASH_RATES.map((entry) => [entry.model, entry.rates] as const), ...Object.entries(options.rates ?? {})]);
    this.sizing = { ...GPU_SIZING, ...options.sizing, algorithms: ALGORITHMS };
    this.measured = options.measuredRates ?? new MeasuredRates(null, null);
    for (const [classId, params] of Object.entries(this.classes)) {
      try {
        checkParams(params);
      } catch (error) {
        throw new RangeError(`hash-crack classes.${classId}: ${(error as Error).message}`);
      }
    }
  }

  supports(executorClass: HardwareClass): boolean {
    return executorClass.id in this.classes || this.rateSized(executorClass) !== null;
  }

  /** The table's rate for the class's slowest card; null when the table cannot size it. */
  tableRates(executorClass: HardwareClass): HashRates | null {
    return classRates(executorClass, (model) => this.rates.get(model));
  }

  /** The rate the class is sized for: the table's, refined by the trusted miner's measurements. */
  expectedRates(executorClass: HardwareClass): HashRates | null {
    const table = this.tableRates(executorClass);
    if (!table) return null;
    const factor = this.measured.factor(executorClass.id);
    return { sha256: table.sha256 * factor, sha384: table.sha384 * factor, sha512: table.sha512 * factor };
  }

  /**
   * Calibrates every rate-sized class of the batch on the trusted miner (see `calibration`).
   * Never fails the batch: a class the trusted miner cannot run keeps its current sizing.
   */
  async prepare(ctx: PrepareContext): Promise<void> {
    this.measuredLoaded ??= this.measured
      .load()
      .catch((error: unknown) => this.options.logger?.error({ err: error }, 'could not read the measured hash rates'));
    await this.measuredLoaded;
    const calibration = this.options.calibration ?? false;
    const trustedMiner = ctx.trustedMiner;
    if (calibration === false || !trustedMiner) return;
    const classes = ctx.executorClasses.filter((c) => !(c.id in this.classes) && this.tableRates(c) !== null);
    await Promise.all(classes.map((c) => this.calibrate(c, trustedMiner, calibration.seconds)));
  }

  private async calibrate(executorClass: HardwareClass, trustedMiner: TrustedMinerRunner, seconds: number): Promise<void> {
    const log = this.options.logger?.child({ executorClass: executorClass.id });
    const rates = this.expectedRates(executorClass)!;
    const policy = { ...this.sizing, margin: 1 };
    // Start-ups only (a search space of a few candidates), then `seconds` of hashing.
    const floorParams = { algorithms: ALGORITHMS, alphabet: 'ab', length: 2, hashesPerBatch: 1, timeLimitSeconds: this.sizing.maxSeconds };
    const workParams = sizeChallenge(rates, { ...policy, overheadSeconds: 0, maxSeconds: seconds });
    try {
      // The floor twice, keeping the quicker: the first run also pays for cold caches.
      const floorTimeout = this.sizing.maxSeconds * 4;
      const floor = Math.min(
        await this.runOnTrusted(trustedMiner, executorClass, floorParams, floorTimeout),
        await this.runOnTrusted(trustedMiner, executorClass, floorParams, floorTimeout),
      );
      const work = await this.runOnTrusted(trustedMiner, executorClass, workParams, floorTimeout + seconds * 4);
      const hashing = Math.max(work - floor, workParams.expectedHashSeconds * 0.05);
      // The solver stops at the last hidden password: on average at h/(h+1) of each search space.
      const h = workParams.hashesPerBatch;
      const expected = (workParams.expectedHashSeconds * h) / (h + 1);
      const factor = await this.measured.record(
        executorClass.id,
        (this.measured.factor(executorClass.id) * expected) / hashing,
        Date.now(),
      );
      this.sized.delete(executorClass.id);
      log?.info(
        { floorSeconds: floor, hashSeconds: hashing, expectedHashSeconds: expected, factor },
        'hash rate calibrated on the trusted miner',
      );
    } catch (error) {
      log?.warn({ err: error }, 'hash rate calibration on the trusted miner failed; sizing unchanged');
    }
  }

  /** Runs one challenge on the trusted miner; its time in seconds, or an error when the answer is wrong. */
  private async runOnTrusted(
    trustedMiner: TrustedMinerRunner,
    executorClass: HardwareClass,
    params: CrackParams & { readonly timeLimitSeconds: number },
    timeoutSeconds: number,
  ): Promise<number> {
    const challenge = createChallenge(params);
    const spec = await this.specFor(executorClass, { ...params, image: DEFAULT_GPU_IMAGE }, challenge, timeoutSeconds);
    const result = await trustedMiner.run(spec, { timeoutMs: timeoutSeconds * 1000 + 30_000 });
    const verdict = judgeAnswer(result, challenge.answer, timeoutSeconds);
    if (!verdict.correct) throw new RangeError(`calibration job answered wrong: ${verdict.details}`);
    return result.timeTookMs / 1000;
  }

  private rateSized(executorClass: HardwareClass): (ClassParams & { readonly timeLimitSeconds: number }) | null {
    if (!this.sized.has(executorClass.id)) {
      const rates = this.expectedRates(executorClass);
      const params = rates ? sizeChallenge(rates, this.sizing) : null;
      this.sized.set(executorClass.id, params && { ...params, image: DEFAULT_GPU_IMAGE });
    }
    return this.sized.get(executorClass.id) ?? null;
  }

  paramsFor(executorClass: HardwareClass): ClassParams & { readonly timeLimitSeconds: number } {
    const params = this.classes[executorClass.id];
    if (params === undefined) {
      const sized = this.rateSized(executorClass);
      if (sized) return sized;
      throw new RangeError(`hash-crack has no parameters for class ${executorClass.id} and no hash rate for its GPU models`);
    }
    return { ...params, timeLimitSeconds: params.timeLimitSeconds ?? executorClass.proof.maxJobSeconds };
  }

  private async specFor(
    executorClass: HardwareClass,
    params: ClassParams,
    challenge: Challenge,
    timeLimitSeconds: number,
  ): Promise<JobSpec> {
    const volume = await makeInlineVolume({ 'payload.json': JSON.stringify(challenge.payload) });
    return {
      executorClass: executorClass.id,
      image: params.image ?? this.options.image ?? DEFAULT_IMAGE,
      command: ['--key', challenge.key],
      env: {},
      dockerRunOptionsPreset: executorClass.dockerPreset,
      volume,
      // The payload travels while the executor starts; it is useless without the key.
      volumeInInitialRequest: true,
      timing: {
        allowedLeewaySeconds: this.options.allowedLeewaySeconds ?? 5,
        downloadTimeLimitSeconds: this.options.downloadTimeLimitSeconds ?? 10,
        executionTimeLimitSeconds: timeLimitSeconds,
        uploadTimeLimitSeconds: this.options.uploadTimeLimitSeconds ?? 10,
        streamingStartTimeLimitSeconds: 0,
      },
    };
  }

  async generate(request: GenerateRequest): Promise<GeneratedJob> {
    const params = this.paramsFor(request.executorClass);
    const challenge = createChallenge(params);
    const timeLimitSeconds = params.timeLimitSeconds;
    return {
      description: `hash-crack ${params.algorithms.join('+')} ${params.alphabet.length}^${params.length} x${params.hashesPerBatch}`,
      spec: await this.specFor(request.executorClass, params, challenge, timeLimitSeconds),
      verify: async (result) => judgeAnswer(result, challenge.answer, timeLimitSeconds),
    };
  }
}
