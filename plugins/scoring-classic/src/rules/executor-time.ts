import { executorSecondsIn, executorTimeSpans, type CycleFacts, type ScoreTable, type ScoringRule } from '@horde/core';
import { addPoints, copyTable } from '../table.js';
import { trustedExcuseValidators } from './excuse-receipts.js';
import { CLASSIC_DEFAULTS } from '../defaults.js';

export const EXECUTOR_TIME = 'executor-time';

export interface ExecutorTimeOptions {
  /** Points per executor-minute spent on organic jobs in the cycle. */
  readonly pointsPerMinute?: number;
  /** Stake a validator (with a permit) needs for its jobs' receipts to count. This validator always counts. */
  readonly minimumValidatorStake?: number;
}

/**
 * Pays miners for executor time actually spent on organic jobs, cycle by cycle, from receipts any
 * validator can check (core's `executorTimeSpans`): a job's time from its finished receipt, or,
 * while it runs, from its accepted receipt up to the end of the cycle's window. A job that runs
 * for three cycles earns in each of them, and keeps what it earned if it later fails or is
 * cancelled. Jobs of every trusted validator count, not only this one's.
 */
export function scoreExecutorTime(facts: CycleFacts, table: ScoreTable, options: Required<ExecutorTimeOptions>): ScoreTable {
  const scored = copyTable(table);
  const trustedValidators = trustedExcuseValidators(facts.neurons, facts.validatorHotkey, options.minimumValidatorStake);
  const spans = executorTimeSpans(facts, { trustedValidators, asOf: facts.window.toMs });
  for (const [minerHotkey, byClass] of executorSecondsIn(spans, facts.window)) {
    for (const [executorClass, seconds] of byClass) addPoints(scored, minerHotkey, executorClass, (seconds / 60) * options.pointsPerMinute);
  }
  return scored;
}

/** Rule `executor-time`: points per executor-minute of organic work in the cycle (opt-in). */
export function executorTimeRule(options: ExecutorTimeOptions = {}): ScoringRule {
  const resolved: Required<ExecutorTimeOptions> = {
    pointsPerMinute: options.pointsPerMinute ?? CLASSIC_DEFAULTS.executorTimePointsPerMinute,
    minimumValidatorStake: options.minimumValidatorStake ?? CLASSIC_DEFAULTS.executorTimeMinimumValidatorStake,
  };
  return { name: EXECUTOR_TIME, apply: (facts, table) => scoreExecutorTime(facts, table, resolved) };
}
