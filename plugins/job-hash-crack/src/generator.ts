import { makeInlineVolume } from '@horde/core';
import type { GenerateRequest, GeneratedJob, HardwareClass, JobGenerator, JobResult, Verdict } from '@horde/core';
import { ALGORITHMS, checkParams, createChallenge } from './challenge.js';
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
  /** Stage limits around the execution (seconds); execution itself gets the class's time bound. */
  readonly downloadTimeLimitSeconds?: number;
  readonly uploadTimeLimitSeconds?: number;
  readonly allowedLeewaySeconds?: number;
}

/** The last non-empty line of the job's stdout: the answer (anything printed before it is ignored). */
function printedAnswer(stdout: string): string {
  const lines = stdout.split('\n').map((line) => line.trim()).filter((line) => line.length > 0);
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
 * password back within the class's time bound. It knows the answer, so no trusted miner is needed.
 */
export class HashCrackGenerator implements JobGenerator {
  readonly name = HASH_CRACK;
  private readonly classes: Readonly<Record<string, ClassParams>>;
  private readonly rates: ReadonlyMap<string, HashRates>;
  private readonly sizing: SizingPolicy;
  /** Rate-sized parameters per class id, computed once. */
  private readonly sized = new Map<string, (ClassParams & { readonly timeLimitSeconds: number }) | null>();

  constructor(private readonly options: HashCrackOptions = {}) {
    this.classes = { ...DEFAULT_CLASS_PARAMS, ...options.classes };
    this.rates = new Map([...GPU_HASH_RATES.map((entry) => [entry.model, entry.rates] as const), ...Object.entries(options.rates ?? {})]);
    this.sizing = { ...GPU_SIZING, ...options.sizing, algorithms: ALGORITHMS };
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

  /** The expected rate of the class's slowest card, from the rate table; null when the table cannot size it. */
  expectedRates(executorClass: HardwareClass): HashRates | null {
    return classRates(executorClass, (model) => this.rates.get(model));
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

  async generate(request: GenerateRequest): Promise<GeneratedJob> {
    const params = this.paramsFor(request.executorClass);
    const challenge = createChallenge(params);
    const volume = await makeInlineVolume({ 'payload.json': JSON.stringify(challenge.payload) });
    const timeLimitSeconds = params.timeLimitSeconds;
    return {
      description: `hash-crack ${params.algorithms.join('+')} ${params.alphabet.length}^${params.length} x${params.hashesPerBatch}`,
      spec: {
        executorClass: request.executorClass.id,
        image: params.image ?? this.options.image ?? DEFAULT_IMAGE,
        command: ['--key', challenge.key],
        env: {},
        dockerRunOptionsPreset: request.executorClass.dockerPreset,
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
      },
      verify: async (result) => judgeAnswer(result, challenge.answer, timeLimitSeconds),
    };
  }
}
