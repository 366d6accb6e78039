import { z } from '@horde/core';
import { CLASSIC_DEFAULTS } from './defaults.js';
import { CLASS_WEIGHTS } from './rules/class-weights.js';
import { DANCING_BONUS } from './rules/dancing-bonus.js';
import { EXCUSED_REJECTIONS } from './rules/excused-rejections.js';
import { EXECUTOR_TIME } from './rules/executor-time.js';
import { ORGANIC_JOBS } from './rules/organic-jobs.js';
import { SYNTHETIC_JOBS } from './rules/synthetic-jobs.js';

/** Every rule of the plugin, in the order ComputeHorde applies them (points, then bonus, then weights). */
export const CLASSIC_RULES = [SYNTHETIC_JOBS, ORGANIC_JOBS, EXCUSED_REJECTIONS, DANCING_BONUS, CLASS_WEIGHTS] as const;
/** Rules the plugin provides only when `rules` names them (place them before `dancing-bonus`). */
export const OPTIONAL_RULES = [EXECUTOR_TIME] as const;
export type ClassicRuleName = (typeof CLASSIC_RULES)[number] | (typeof OPTIONAL_RULES)[number];

export const scoringClassicConfig = z.strictObject({
  /** Which rules to run and in what order; leave some out to compose with other scoring plugins. */
  rules: z
    .array(z.enum([...CLASSIC_RULES, ...OPTIONAL_RULES]))
    .min(1)
    .refine((rules) => new Set(rules).size === rules.length, 'each rule may appear once')
    .default([...CLASSIC_RULES]),
  /** Points per synthetic job completed correctly and within its class's time bound. */
  syntheticJobPoints: z.number().nonnegative().default(CLASSIC_DEFAULTS.syntheticJobPoints),
  /** Points per completed organic job. */
  organicJobPoints: z.number().nonnegative().default(CLASSIC_DEFAULTS.organicJobPoints),
  /** Points per busy rejection backed by enough valid excuse receipts. */
  excusedJobPoints: z.number().nonnegative().default(CLASSIC_DEFAULTS.excusedJobPoints),
  /** Stake a validator needs for its receipts to excuse a busy rejection (ComputeHorde: 30,000). */
  excuseMinimumValidatorStake: z.number().nonnegative().default(CLASSIC_DEFAULTS.excuseMinimumValidatorStake),
  /** Clock skew allowed past an excuse receipt's ttl, in seconds. */
  excuseLeewaySeconds: z.number().nonnegative().default(CLASSIC_DEFAULTS.excuseLeewaySeconds),
  /** `executor-time`: points per executor-minute spent on organic jobs in the cycle. */
  executorTimePointsPerMinute: z.number().nonnegative().default(CLASSIC_DEFAULTS.executorTimePointsPerMinute),
  /** `executor-time`: stake a validator (with a permit) needs for its jobs to count. */
  executorTimeMinimumValidatorStake: z.number().nonnegative().default(CLASSIC_DEFAULTS.executorTimeMinimumValidatorStake),
  /** Bonus share for a coldkey whose main hotkey changed since last cycle (ComputeHorde now: 0.1). */
  dancingBonus: z.number().nonnegative().default(CLASSIC_DEFAULTS.dancingBonus),
  /** Share of a coldkey's points that goes to its main hotkey when it has several. */
  mainHotkeyShare: z.number().min(0).max(1).default(CLASSIC_DEFAULTS.mainHotkeyShare),
  /** Weight per executor class; classes not listed get 0. */
  classWeights: z.record(z.string(), z.number().nonnegative()).default({ ...CLASSIC_DEFAULTS.classWeights }),
});

export type ScoringClassicConfig = z.output<typeof scoringClassicConfig>;
