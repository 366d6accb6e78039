import { HORDE_CLASS_WEIGHTS } from '@horde/core';

/**
 * The one definition of every default of the plugin: the config schema's `.default(...)` and the
 * rule factories' fallbacks (a rule built without options, e.g. in a test or another plugin) both
 * read them from here.
 */
export const CLASSIC_DEFAULTS = {
  /** Points per synthetic job completed correctly and within its class's time bound. */
  syntheticJobPoints: 1,
  /** Points per completed organic job. */
  organicJobPoints: 1,
  /** Points per busy rejection backed by enough valid excuse receipts. */
  excusedJobPoints: 1,
  /** Stake a validator needs for its receipts to excuse a busy rejection (ComputeHorde: 30,000). */
  excuseMinimumValidatorStake: 50_000,
  /** Clock skew allowed past an excuse receipt's ttl, in seconds. */
  excuseLeewaySeconds: 2,
  /** `executor-time`: points per executor-minute spent on organic jobs in the cycle. */
  executorTimePointsPerMinute: 1,
  /** `executor-time`: stake a validator (with a permit) needs for its jobs to count. */
  executorTimeMinimumValidatorStake: 50_000,
  /** Bonus share for a coldkey whose main hotkey changed since last cycle (ComputeHorde now: 0.1). */
  dancingBonus: 0.3,
  /** Share of a coldkey's points that goes to its main hotkey when it has several. */
  mainHotkeyShare: 0.8,
  /** ComputeHorde's class weights plus the GPU classes horde adds; classes not listed get 0. */
  classWeights: HORDE_CLASS_WEIGHTS as Readonly<Record<string, number>>,
} as const;
