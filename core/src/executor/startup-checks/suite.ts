import type { Logger } from '../../contracts/index.js';
import { StartupCheckFailed, type CheckContext, type StartupCheck, type StartupCheckName } from './types.js';

/**
 * ComputeHorde's executor classes with a GPU (`has_gpu`, docker preset `nvidia_all`). A class not
 * listed here that still sends a GPU job gets the GPU check before its container starts.
 */
export const GPU_EXECUTOR_CLASSES: ReadonlySet<string> = new Set(['spin_up-4min.gpu-24gb', 'always_on.gpu-24gb', 'always_on.llm.a6000']);

/** What the job driver calls, in its startup stage and before a GPU container. */
export interface StartupChecks {
  /** The check running now (for the message when the stage deadline passes mid-check). */
  readonly running: StartupCheckName | null;
  /** Before the job's image is made available: the engine, the GPU toolkit (GPU classes), leftover clean-up. */
  beforeImage(context: CheckContext): Promise<void>;
  /** Once the image is there: the checks that run a container. */
  afterImage(context: CheckContext): Promise<void>;
  /** Before a container with GPUs (preset `nvidia_all`) starts, if the GPU check has not run for this job. */
  beforeGpuJob(context: CheckContext): Promise<void>;
}

export interface StartupCheckSuiteOptions {
  /** Checks that need no image (run first: they fail fastest). */
  readonly early?: readonly StartupCheck[];
  /** Checks that run a container of the image. */
  readonly late?: readonly StartupCheck[];
  /** The GPU toolkit check, for GPU classes and GPU jobs; null when disabled or not applicable. */
  readonly gpu?: StartupCheck | null;
  /** Housekeeping between the early checks and the image pull (leftover job containers). */
  readonly cleanup?: (context: CheckContext) => Promise<void>;
  /** Makes the probe image available when it is not the job's. */
  readonly prepareCheckImage?: (context: CheckContext) => Promise<void>;
  readonly logger: Logger;
}

/** Runs the enabled checks in order; the first failure stops the startup. */
export class StartupCheckSuite implements StartupChecks {
  private current: StartupCheckName | null = null;
  private gpuChecked = false;

  constructor(private readonly options: StartupCheckSuiteOptions) {}

  get running(): StartupCheckName | null {
    return this.current;
  }

  /** Names of the checks this suite may run, in order. */
  get names(): StartupCheckName[] {
    const { early = [], late = [], gpu } = this.options;
    return [...early, ...(gpu ? [gpu] : []), ...late].map((check) => check.name);
  }

  async beforeImage(context: CheckContext): Promise<void> {
    for (const check of this.options.early ?? []) await this.runCheck(check, context);
    if (this.options.gpu && GPU_EXECUTOR_CLASSES.has(context.executorClass)) {
      await this.runCheck(this.options.gpu, context);
      this.gpuChecked = true;
    }
    if (this.options.cleanup) {
      try {
        await this.options.cleanup(context);
      } catch (error) {
        // Housekeeping: a leftover costs resources, not safety; the job can still run.
        context.logger.warn({ err: error, jobUuid: context.jobUuid }, 'could not clean up leftover job containers');
      }
    }
  }

  async afterImage(context: CheckContext): Promise<void> {
    const late = this.options.late ?? [];
    if (late.length > 0 && this.options.prepareCheckImage) await this.options.prepareCheckImage(context);
    for (const check of late) await this.runCheck(check, context);
  }

  async beforeGpuJob(context: CheckContext): Promise<void> {
    if (!this.options.gpu || this.gpuChecked) return;
    await this.runCheck(this.options.gpu, context);
    this.gpuChecked = true;
  }

  private async runCheck(check: StartupCheck, context: CheckContext): Promise<void> {
    const started = Date.now();
    this.current = check.name;
    try {
      const facts = await check.run(context);
      context.logger.info(
        { jobUuid: context.jobUuid, check: check.name, ms: Date.now() - started, ...facts },
        `startup check passed: ${check.proves}`,
      );
    } catch (error) {
      // The deadline or a stop aborted it: the driver reports that, not a check failure.
      if (context.signal.aborted) throw context.signal.reason;
      const failure =
        error instanceof StartupCheckFailed
          ? error
          : new StartupCheckFailed(
              check.name,
              `the check could not run: ${error instanceof Error ? error.message : String(error)}`,
              {},
              { cause: error },
            );
      context.logger.error({ jobUuid: context.jobUuid, check: check.name, ms: Date.now() - started, ...failure.facts }, failure.message);
      throw failure;
    } finally {
      this.current = null;
    }
  }
}
