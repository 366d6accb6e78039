import { z } from 'zod';
import { listen } from '../events/listen.js';
import type { RevealResult, WeightSubmissionResult } from '../contracts/index.js';
import type { BatchResult } from '../validator/batch.js';
import type { JobRecord } from '../validator/job-driver.js';
import type { ValidatorHandle } from '../validator/service.js';

/**
 * Progress messages a `horde validator` process sends its parent over the IPC channel (the devnet
 * starts it with one). Small on purpose: the parent reads details from the validator's store at
 * the end; these only drive the live view and tell the devnet when to stop.
 */
const cycle = z.number().int().nonnegative();
const block = z.number().int().nonnegative();

export const validatorEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), hotkey: z.string() }),
  z.object({ type: z.literal('batch-started'), cycle, miners: z.number().int().nonnegative(), jobs: z.number().int().nonnegative() }),
  z.object({
    type: z.literal('job-finished'),
    cycle,
    jobUuid: z.string(),
    minerHotkey: z.string(),
    executorClass: z.string(),
    status: z.enum(['completed', 'failed', 'rejected', 'horde_failed']),
    correct: z.boolean().nullable(),
  }),
  z.object({
    type: z.literal('batch-finished'),
    cycle,
    miners: z.number().int().nonnegative(),
    jobs: z.number().int().nonnegative(),
    durationMs: z.number(),
  }),
  z.object({ type: z.literal('cycle-scored'), cycle }),
  z.object({
    type: z.literal('weights-set'),
    cycle,
    /** `none`: nothing put on chain (no miner earned weight, or every attempt failed). */
    status: z.enum(['set', 'committed', 'rate_limited', 'none']),
    block: block.nullable(),
    revealBlock: block.nullable(),
  }),
  z.object({ type: z.literal('weights-revealed'), commitBlock: block, block: block.nullable() }),
  z.object({ type: z.literal('failure'), stage: z.string(), message: z.string() }),
]);

export type ValidatorEvent = z.infer<typeof validatorEventSchema>;

/** The envelope, so a stray message on the channel is told apart from ours. */
export const VALIDATOR_EVENT_KIND = 'horde-validator-event';

export type ValidatorEventParse = { ok: true; event: ValidatorEvent } | { ok: false; error: string };

export function parseValidatorEvent(message: unknown): ValidatorEventParse {
  const envelope = z.object({ kind: z.literal(VALIDATOR_EVENT_KIND), event: z.unknown() }).safeParse(message);
  if (!envelope.success) return { ok: false, error: 'not a horde validator event' };
  const parsed = validatorEventSchema.safeParse(envelope.data.event);
  return parsed.success ? { ok: true, event: parsed.data } : { ok: false, error: z.prettifyError(parsed.error) };
}

/**
 * Sends the handle's events through `send` (`process.send` in a validator started with an IPC
 * channel). Returns a function that stops forwarding.
 */
export function forwardValidatorEvents(handle: ValidatorHandle, send: (message: unknown) => void): () => void {
  const emit = (event: ValidatorEvent) => {
    try {
      send({ kind: VALIDATOR_EVENT_KIND, event });
    } catch {
      // The parent is gone: nobody to tell.
    }
  };
  const onBatchStarted = (e: { cycle: number; miners: number; jobs: number }) =>
    emit({ type: 'batch-started', cycle: e.cycle, miners: e.miners, jobs: e.jobs });
  const onJobFinished = (record: JobRecord) =>
    emit({
      type: 'job-finished',
      cycle: record.cycle,
      jobUuid: record.jobUuid,
      minerHotkey: record.minerHotkey,
      executorClass: record.executorClass,
      status: record.status,
      correct: record.correct,
    });
  const onBatchFinished = (summary: Omit<BatchResult, 'records'>) =>
    emit({ type: 'batch-finished', cycle: summary.cycle, miners: summary.miners, jobs: summary.jobs, durationMs: summary.durationMs });
  const onCycleScored = ({ cycle: c }: { cycle: number }) => emit({ type: 'cycle-scored', cycle: c });
  const onWeightsSet = ({ cycle: c, result }: { cycle: number; result: WeightSubmissionResult | null }) =>
    emit({
      type: 'weights-set',
      cycle: c,
      status: result?.status ?? 'none',
      block: result && result.status !== 'rate_limited' ? result.block : null,
      revealBlock: result?.status === 'committed' ? result.revealBlock : null,
    });
  const onRevealed = (result: RevealResult) =>
    emit({ type: 'weights-revealed', commitBlock: result.commitBlock, block: result.block ?? null });
  const onFailure = ({ stage, error }: { stage: string; error: Error }) => emit({ type: 'failure', stage, message: error.message });

  const stop = listen(handle, {
    'batch-started': onBatchStarted,
    'job-finished': onJobFinished,
    'batch-finished': onBatchFinished,
    'cycle-scored': onCycleScored,
    'weights-set': onWeightsSet,
    'weights-revealed': onRevealed,
    failure: onFailure,
  });
  emit({ type: 'ready', hotkey: handle.hotkey });
  return stop;
}
