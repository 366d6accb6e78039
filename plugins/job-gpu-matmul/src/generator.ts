import { randomBytes } from 'node:crypto';
import { z } from '@horde/core';
import type { GenerateRequest, GeneratedJob, HardwareClass, JobGenerator, JobResult, Verdict } from '@horde/core';
import { challengedRows, FORMAT, leafHash, MAX_N, productRows, rowBytes, verifyProof } from './matrix.js';

export const GPU_MATMUL = 'gpu-matmul';
/** Image of `job/Dockerfile` (the CPU solver, `job/matmul.mjs`). */
export const DEFAULT_IMAGE = 'horde/job-gpu-matmul:1';
/** Image of `job/Dockerfile.gpu` (PyTorch int8 matmul on the GPU, `job/matmul_gpu.py`). */
export const DEFAULT_GPU_IMAGE = 'horde/job-gpu-matmul:1-gpu';

/** One class's challenge: matrix size, rows challenged, bound. */
export interface MatmulClassParams {
  readonly n: number;
  readonly challenges: number;
  readonly timeLimitSeconds: number;
  readonly image?: string;
}

/**
 * Sizes per class. The validator recomputes each challenged row (n² multiply-adds, all of B
 * generated once per job): at n = 4096 and 16 rows that is ~0.3 G multiply-adds, well under a
 * second of validator CPU per job, and the 16 rows fit the executor's 1 MB stdout (~350 kB).
 * Passing 16 rows drawn from a root the executor had to fix first means a cheater that computed a
 * fraction f of C passes with probability f^16 per root it tries (see README for grinding).
 */
export const DEFAULT_CLASS_PARAMS: Readonly<Record<string, MatmulClassParams>> = {
  'always_on.test': { n: 64, challenges: 8, timeLimitSeconds: 15 },
  'always_on.cpu.8c.16gb': { n: 1024, challenges: 16, timeLimitSeconds: 30 },
  'always_on.llm.a6000': { n: 4096, challenges: 16, timeLimitSeconds: 20, image: DEFAULT_GPU_IMAGE },
  'always_on.gpu.a100-80gb': { n: 4096, challenges: 16, timeLimitSeconds: 20, image: DEFAULT_GPU_IMAGE },
  'always_on.gpu.h100-80gb': { n: 4096, challenges: 16, timeLimitSeconds: 20, image: DEFAULT_GPU_IMAGE },
};

export interface GpuMatmulOptions {
  readonly classes?: Readonly<Record<string, MatmulClassParams>>;
  readonly image?: string;
}

const answerSchema = z.strictObject({
  format: z.literal(FORMAT),
  root: z.string().regex(/^[0-9a-f]{64}$/),
  rows: z.array(
    z.strictObject({ index: z.number().int().nonnegative(), values: z.string(), proof: z.array(z.string().regex(/^[0-9a-f]{64}$/)) }),
  ),
});

/** The last non-empty stdout line, parsed; a reason string when it is not a well-formed answer. */
function parseAnswer(stdout: string): z.output<typeof answerSchema> | string {
  const line = stdout
    .split('\n')
    .map((part) => part.trim())
    .filter(Boolean)
    .at(-1);
  if (!line) return 'no answer printed';
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return 'answer is not JSON';
  }
  const parsed = answerSchema.safeParse(json);
  return parsed.success
    ? parsed.data
    : `malformed answer: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? ''}`.trim();
}

/** Checks an answer: the rows the root selects, each proven under the root and equal to A·B's row. */
export function judgeMatmul(result: JobResult, seed: string, params: MatmulClassParams): Verdict {
  const inTime = result.timeTookMs <= params.timeLimitSeconds * 1000;
  const took = `${(result.timeTookMs / 1000).toFixed(2)} s of ${params.timeLimitSeconds} s`;
  const wrong = (why: string): Verdict => ({ correct: false, inTime, details: `${why}, ${took}` });
  const answer = parseAnswer(result.stdout);
  if (typeof answer === 'string') return wrong(answer);
  const expectedRows = challengedRows(seed, answer.root, params.n, params.challenges);
  if (answer.rows.length !== expectedRows.length || answer.rows.some((row, t) => row.index !== expectedRows[t])) {
    return wrong('answered rows are not the ones the root selects');
  }
  const root = Buffer.from(answer.root, 'hex');
  for (const row of answer.rows) {
    const bytes = Buffer.from(row.values, 'base64');
    if (bytes.length !== params.n * 4) return wrong(`row ${row.index} has ${bytes.length} bytes, expected ${params.n * 4}`);
    if (
      !verifyProof(
        root,
        row.index,
        leafHash(row.index, bytes),
        row.proof.map((hex) => Buffer.from(hex, 'hex')),
        params.n,
      )
    ) {
      return wrong(`row ${row.index} is not under the committed root`);
    }
  }
  // Only now the expensive part: the challenged rows of C, recomputed from the seed.
  const truth = productRows(seed, params.n, expectedRows);
  for (const [t, row] of answer.rows.entries()) {
    if (!Buffer.from(row.values, 'base64').equals(rowBytes(truth[t]!))) return wrong(`row ${row.index} of the product is wrong`);
  }
  return { correct: true, inTime, details: `${params.challenges} challenged rows of a ${params.n}² product correct, ${took}` };
}

/**
 * The proof-of-GPU synthetic job (SN27 NI Compute's idea): multiply two seeded int8 matrices,
 * commit to the product's rows as a Merkle root, and answer the rows the root selects. The
 * validator generates the seed, so it knows nothing else in advance, and recomputes only the
 * challenged rows.
 */
export class GpuMatmulGenerator implements JobGenerator {
  readonly name = GPU_MATMUL;
  private readonly classes: Readonly<Record<string, MatmulClassParams>>;

  constructor(private readonly options: GpuMatmulOptions = {}) {
    this.classes = { ...DEFAULT_CLASS_PARAMS, ...options.classes };
    for (const [classId, params] of Object.entries(this.classes)) {
      if (!Number.isInteger(params.n) || params.n < 2 || params.n > MAX_N)
        throw new RangeError(`gpu-matmul classes.${classId}.n: a whole number from 2 to ${MAX_N}`);
      if (!Number.isInteger(params.challenges) || params.challenges < 1)
        throw new RangeError(`gpu-matmul classes.${classId}.challenges: at least 1`);
    }
  }

  supports(executorClass: HardwareClass): boolean {
    return executorClass.id in this.classes;
  }

  paramsFor(executorClass: HardwareClass): MatmulClassParams {
    const params = this.classes[executorClass.id];
    if (!params) throw new RangeError(`gpu-matmul has no parameters for class ${executorClass.id}`);
    return params;
  }

  async generate(request: GenerateRequest): Promise<GeneratedJob> {
    const params = this.paramsFor(request.executorClass);
    const seed = randomBytes(16).toString('hex');
    return {
      description: `gpu-matmul ${params.n}² x${params.challenges}`,
      spec: {
        executorClass: request.executorClass.id,
        image: params.image ?? this.options.image ?? DEFAULT_IMAGE,
        command: ['--seed', seed, '--n', String(params.n), '--challenges', String(params.challenges)],
        env: {},
        dockerRunOptionsPreset: request.executorClass.dockerPreset,
        timing: {
          allowedLeewaySeconds: 5,
          downloadTimeLimitSeconds: 5,
          executionTimeLimitSeconds: params.timeLimitSeconds,
          uploadTimeLimitSeconds: 5,
          streamingStartTimeLimitSeconds: 0,
        },
      },
      verify: async (result) => judgeMatmul(result, seed, params),
    };
  }
}
