import { randomBytes, randomInt } from 'node:crypto';
import { defineError } from '@horde/core';
import type {
  GenerateRequest,
  GeneratedJob,
  HardwareClass,
  JobGenerator,
  JobResult,
  Logger,
  ObjectStore,
  PrepareContext,
  Verdict,
} from '@horde/core';
import { makePrompts } from './prompts.js';

export const LLM_PROMPTS = 'llm-prompts';
export const DEFAULT_IMAGE = 'horde/job-llm-prompts:1';

/** The generator cannot make jobs this cycle (no trusted miner, ground truth failed). */
export class LlmPromptsError extends defineError('HORDE_LLM_PROMPTS_UNAVAILABLE') {}

export interface LlmPromptsOptions {
  readonly objectStore: ObjectStore;
  readonly logger?: Logger;
  /** Solver image; the stand-in (`job/solve.mjs`) unless configured. */
  readonly image?: string;
  /** Classes this generator proves (ComputeHorde: the LLM class). */
  readonly executorClasses?: readonly string[];
  /** Seconds a miner has to answer a whole series (ComputeHorde: 150). */
  readonly timeLimitSeconds?: number;
  readonly seriesPerCycle?: number;
  readonly promptsPerSeries?: number;
  /** Prompts per series whose answers are checked (ComputeHorde: 1). */
  readonly samplesPerSeries?: number;
  /** Object key prefix for series, ground truth and answers. */
  readonly keyPrefix?: string;
  /** Decoding settings passed to the solver; only the seed changes between cycles. */
  readonly solverArgs?: readonly string[];
  /** How long the validator waits to download a miner's answers. */
  readonly answerDownloadTimeoutMs?: number;
}

interface Series {
  readonly key: string;
  /** The sampled prompts and the trusted miner's answers to them. */
  readonly truth: ReadonlyMap<string, string>;
}

interface CycleState {
  readonly cycle: number;
  readonly seed: string;
  readonly series: readonly Series[];
}

const DEFAULT_SOLVER_ARGS = ['--temperature=0.5', '--top-p=0.8', '--max-tokens=256'];

/** Draws `count` distinct items. */
function sample<T>(items: readonly T[], count: number): T[] {
  const pool = [...items];
  const picked: T[] = [];
  while (picked.length < count && pool.length > 0) picked.push(pool.splice(randomInt(pool.length), 1)[0]!);
  return picked;
}

function parseAnswers(body: Buffer): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LlmPromptsError(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * ComputeHorde's LLM prompts job. Each cycle `prepare` writes prompt series to the object store,
 * samples a few prompts of each, and has the trusted miner answer the samples with the cycle's
 * seed: the ground truth. Each miner job then answers a whole series with the same seed and
 * uploads its answers; the validator checks only the sampled prompts, which the miner cannot tell
 * apart from the rest.
 */
export class LlmPromptsGenerator implements JobGenerator {
  readonly name = LLM_PROMPTS;
  private state: CycleState | null = null;
  private nextSeries = 0;

  constructor(private readonly options: LlmPromptsOptions) {}

  private get prefix(): string {
    return this.options.keyPrefix ?? 'llm-prompts';
  }

  private get solverArgs(): readonly string[] {
    return this.options.solverArgs ?? DEFAULT_SOLVER_ARGS;
  }

  supports(executorClass: HardwareClass): boolean {
    return (this.options.executorClasses ?? ['always_on.llm.a6000']).includes(executorClass.id);
  }

  async prepare(ctx: PrepareContext): Promise<void> {
    if (!ctx.executorClasses.some((executorClass) => this.supports(executorClass))) return;
    if (this.state?.cycle === ctx.cycle) return;
    if (ctx.trustedMiner === undefined) {
      throw new LlmPromptsError('llm-prompts needs a trusted miner for ground truth: set validator.trustedMiner in the config');
    }
    const store = this.options.objectStore;
    const cyclePrefix = `${this.prefix}/${ctx.cycle}`;
    const seed = String(randomInt(2 ** 31));
    const seriesCount = this.options.seriesPerCycle ?? 4;
    const series: Array<{ key: string; samples: string[] }> = [];
    for (let index = 0; index < seriesCount; index++) {
      const prompts = makePrompts(randomBytes(16).toString('hex'), this.options.promptsPerSeries ?? 240);
      const key = `${cyclePrefix}/series-${index}.txt`;
      await store.put(key, prompts.join('\n') + '\n', { contentType: 'text/plain' });
      series.push({ key, samples: sample(prompts, this.options.samplesPerSeries ?? 1) });
    }

    // Ground truth: the trusted miner answers every sampled prompt with the cycle's seed.
    const samplesKey = `${cyclePrefix}/samples.txt`;
    const truthKey = `${cyclePrefix}/truth.json`;
    await store.put(samplesKey, series.flatMap((s) => s.samples).join('\n') + '\n', { contentType: 'text/plain' });
    const timeLimitSeconds = this.options.timeLimitSeconds ?? 150;
    const result = await ctx.trustedMiner.run(
      {
        executorClass: ctx.executorClasses.find((executorClass) => this.supports(executorClass))!.id,
        image: this.options.image ?? DEFAULT_IMAGE,
        command: [...this.solverArgs, '--seed', seed, '/volume/samples.txt'],
        env: {},
        dockerRunOptionsPreset: 'nvidia_all',
        volume: { volume_type: 'single_file', url: await store.presignGet(samplesKey, 3600), relative_path: 'samples.txt' },
        outputUpload: { output_upload_type: 'single_file_put', url: await store.presignPut(truthKey, 3600), relative_path: 'samples.json' },
        timing: {
          allowedLeewaySeconds: 5,
          downloadTimeLimitSeconds: 30,
          executionTimeLimitSeconds: timeLimitSeconds,
          uploadTimeLimitSeconds: 30,
          streamingStartTimeLimitSeconds: 0,
        },
      },
      { timeoutMs: (timeLimitSeconds + 120) * 1000 },
    );
    const truth = parseAnswers(await store.get(truthKey).catch(() => Buffer.from('')));
    if (truth === null) throw new LlmPromptsError(`the trusted miner uploaded no answers (stdout: ${result.stdout.slice(0, 200)})`);
    this.state = {
      cycle: ctx.cycle,
      seed,
      series: series.map(({ key, samples }) => {
        const answers = new Map<string, string>();
        for (const prompt of samples) {
          const answer = truth[prompt];
          if (typeof answer !== 'string') throw new LlmPromptsError(`the trusted miner did not answer sampled prompt "${prompt}"`);
          answers.set(prompt, answer);
        }
        return { key, truth: answers };
      }),
    };
    await this.forgetCycle(ctx.cycle - 2);
    this.options.logger?.info({ cycle: ctx.cycle, series: seriesCount }, 'llm-prompts ground truth ready');
  }

  /** Deletes what an old cycle left in the object store; failures only cost storage. */
  private async forgetCycle(cycle: number): Promise<void> {
    if (cycle < 0) return;
    try {
      const keys = await this.options.objectStore.list(`${this.prefix}/${cycle}/`);
      for (const key of keys) await this.options.objectStore.delete(key);
    } catch (error) {
      this.options.logger?.warn({ cycle, err: error }, 'llm-prompts could not delete an old cycle');
    }
  }

  async generate(request: GenerateRequest): Promise<GeneratedJob> {
    const state = this.state;
    if (state === null || state.cycle !== request.cycle) {
      throw new LlmPromptsError(`llm-prompts has no ground truth for cycle ${request.cycle}; prepare failed or did not run`);
    }
    const series = state.series[this.nextSeries++ % state.series.length]!;
    const store = this.options.objectStore;
    const answersKey = `${this.prefix}/${state.cycle}/solved/${request.jobUuid}.json`;
    const timeLimitSeconds = this.options.timeLimitSeconds ?? 150;
    return {
      description: `llm-prompts ${series.key.split('/').at(-1)} (${series.truth.size} sampled)`,
      spec: {
        executorClass: request.executorClass.id,
        image: this.options.image ?? DEFAULT_IMAGE,
        command: [...this.solverArgs, '--seed', state.seed, '/volume/prompts.txt'],
        env: {},
        dockerRunOptionsPreset: request.executorClass.dockerPreset,
        volume: { volume_type: 'single_file', url: await store.presignGet(series.key, 3600), relative_path: 'prompts.txt' },
        outputUpload: {
          output_upload_type: 'single_file_put',
          url: await store.presignPut(answersKey, 3600),
          relative_path: 'prompts.json',
        },
        timing: {
          allowedLeewaySeconds: 5,
          downloadTimeLimitSeconds: 30,
          executionTimeLimitSeconds: timeLimitSeconds,
          uploadTimeLimitSeconds: 30,
          streamingStartTimeLimitSeconds: 0,
        },
      },
      verify: (result) => this.verify(result, answersKey, series, timeLimitSeconds),
    };
  }

  private async verify(result: JobResult, answersKey: string, series: Series, timeLimitSeconds: number): Promise<Verdict> {
    const inTime = result.timeTookMs <= timeLimitSeconds * 1000;
    let body: Buffer;
    try {
      body = await withTimeout(
        this.options.objectStore.get(answersKey),
        this.options.answerDownloadTimeoutMs ?? 30_000,
        'downloading the answers',
      );
    } catch (error) {
      return { correct: false, inTime, details: `answers not available: ${(error as Error).message}` };
    }
    const answers = parseAnswers(body);
    if (answers === null) return { correct: false, inTime, details: 'answers are not a JSON object' };
    for (const [prompt, expected] of series.truth) {
      if (answers[prompt] !== expected)
        return { correct: false, inTime, details: `sampled prompt answered differently from the trusted miner` };
    }
    return { correct: true, inTime, details: `${series.truth.size} sampled answers match the trusted miner` };
  }
}
