import { createHash, randomBytes } from 'node:crypto';
import {
  definePlugin,
  JOB_GENERATOR,
  z,
  type GenerateRequest,
  type GeneratedJob,
  type HardwareClass,
  type JobGenerator,
  type JobResult,
  type Verdict,
} from '@horde/core';

/*
 * {{packageName}}: a synthetic job generator for horde validators.
 *
 * Validators test miners with synthetic jobs: for every executor a miner declares, the validator
 * asks a generator that `supports` the executor's class for a job, sends it, and later calls the
 * job's `verify` with what came back (stdout, stderr, artifacts, upload results, time taken). The
 * verdict (correct, in time) feeds the scoring rules. A hardware class names the generators that
 * may prove it in `proof.jobGenerators`, so list this generator's name there.
 *
 * This example hashes a random nonce `rounds` times with sha256, in a busybox shell, and checks the
 * printed digest against the one the validator computed itself. A real generator would ask for
 * work only the claimed hardware can do in time (see @horde/plugin-job-hash-crack), and may use a
 * volume (input files), an output upload, or the validator's trusted miner for answers it cannot
 * compute (`prepare`).
 *
 * `generate` runs once per executor of every miner, thousands of times per batch: keep it cheap.
 * `verify` must never throw on bad output: a wrong answer is a verdict, not an error.
 */

/** The plugin's settings: its `config` section in horde.config.yaml, validated before it runs. */
export const {{pluginVar}}Config = z.strictObject({
  /** The job's image: anything with a POSIX `sh`, `sha256sum` and `cut` (busybox has all three). */
  image: z.string().min(1).default('busybox:latest'),
  /** Executor classes (HardwareClass ids) this generator may test. */
  executorClasses: z.array(z.string().min(1)).min(1).default(['always_on.test', 'always_on.cpu.8c.16gb']),
  /** Seconds the job may run; a slower answer is judged not in time. */
  timeLimitSeconds: z.number().positive().default(10),
  /** How many times the nonce is hashed: the amount of work in one job. */
  rounds: z.number().int().min(1).max(10_000).default(100),
});

export type {{className}}Config = z.output<typeof {{pluginVar}}Config>;

/** The generator's name, for hardware classes' `proof.jobGenerators` and the logs. */
export const GENERATOR_NAME = '{{name}}';

/** The job: hash $HORDE_NONCE $HORDE_ROUNDS times, print the last digest. */
export const JOB_SCRIPT =
  'h="$HORDE_NONCE"; i=0; while [ "$i" -lt "$HORDE_ROUNDS" ]; do h=$(printf %s "$h" | sha256sum | cut -d" " -f1); i=$((i + 1)); done; echo "$h"';

/** What an honest executor prints for `nonce` and `rounds`: the same chain, computed here. */
export function expectedAnswer(nonce: string, rounds: number): string {
  let digest = nonce;
  for (let i = 0; i < rounds; i += 1) digest = createHash('sha256').update(digest).digest('hex');
  return digest;
}

/** The job's answer: the last non-empty line of its stdout. */
function printedAnswer(result: JobResult): string {
  const lines = result.stdout.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  return lines.at(-1) ?? '';
}

export class {{className}}Generator implements JobGenerator {
  readonly name = GENERATOR_NAME;

  constructor(private readonly config: {{className}}Config) {}

  supports(executorClass: HardwareClass): boolean {
    return this.config.executorClasses.includes(executorClass.id);
  }

  async generate(request: GenerateRequest): Promise<GeneratedJob> {
    // A fresh secret per job, so an answer cannot be copied from another miner or an earlier cycle.
    const nonce = randomBytes(16).toString('hex');
    const { rounds, timeLimitSeconds } = this.config;
    const answer = expectedAnswer(nonce, rounds);
    return {
      description: `{{name}} sha256 x${rounds}`,
      spec: {
        executorClass: request.executorClass.id,
        image: this.config.image,
        command: ['sh', '-c', JOB_SCRIPT],
        env: { HORDE_NONCE: nonce, HORDE_ROUNDS: String(rounds) },
        dockerRunOptionsPreset: request.executorClass.dockerPreset,
        timing: {
          allowedLeewaySeconds: 5,
          downloadTimeLimitSeconds: 10,
          executionTimeLimitSeconds: timeLimitSeconds,
          uploadTimeLimitSeconds: 10,
          streamingStartTimeLimitSeconds: 0,
        },
      },
      verify: async (result: JobResult): Promise<Verdict> => {
        const printed = printedAnswer(result);
        const correct = printed === answer;
        const inTime = result.timeTookMs <= timeLimitSeconds * 1000;
        const took = `${(result.timeTookMs / 1000).toFixed(2)} s of ${timeLimitSeconds} s`;
        const details = correct ? `digest correct, ${took}` : printed === '' ? `no digest printed, ${took}` : `wrong digest ${printed.slice(0, 16)}, ${took}`;
        return { correct, inTime, details };
      },
    };
  }
}

/**
 * The plugin: what horde imports when horde.config.yaml lists this package. A validator may use
 * any number of job generators, in config order.
 */
export default definePlugin({
  name: '{{packageName}}',
  // Keep in step with package.json (a test checks it); `horde plugins list` shows it.
  version: '0.1.0',
  // The plugin API versions this code is written for; horde refuses to load it elsewhere.
  apiRange: '^1.0.0',
  description: '{{description}}',
  provides: [JOB_GENERATOR],
  configSchema: {{pluginVar}}Config,
  register(ctx) {
    ctx.provide(JOB_GENERATOR, { useValue: new {{className}}Generator(ctx.config) });
  },
});
