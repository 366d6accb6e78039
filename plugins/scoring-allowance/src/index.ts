import { definePlugin, SCORING_RULE, z } from '@horde/core';
import { allowancePaidJobsRule } from './allowance.js';
import { allowanceSplitRule, DEFAULT_CLASS_WEIGHTS } from './split.js';

export * from './allowance.js';
export * from './split.js';

export const scoringAllowanceConfig = z.strictObject({
  /** Seconds one block stands for when minting allowance. */
  blockSeconds: z.number().positive().default(12),
  /** Scales every block's allowance (ComputeHorde production: 100). */
  allowanceMultiplier: z.number().positive().default(1),
  /** Bonus for a coldkey whose main hotkey changed since the previous cycle. */
  dancingBonus: z.number().nonnegative().default(0.1),
  /** Share of a coldkey's points its main hotkey gets. */
  mainHotkeyShare: z.number().min(0).max(1).default(0.8),
  /** Weight per executor class; classes not listed get 0. */
  classWeights: z.record(z.string(), z.number().nonnegative()).default({ ...DEFAULT_CLASS_WEIGHTS }),
});

/**
 * ComputeHorde's current (allowance) scoring as two rules: organic jobs paid from per-block
 * allowance earn 1 point per executor-second, then main-hotkey split, dancing bonus and class
 * weights. An alternative to `@horde/plugin-scoring-classic`; list one or the other.
 */
export default definePlugin({
  name: '@horde/plugin-scoring-allowance',
  version: '0.1.0',
  apiRange: '^1.0.0',
  description: 'Allowance scoring: executor-seconds paid from per-block allowance, main-hotkey split',
  provides: [SCORING_RULE],
  configSchema: scoringAllowanceConfig,
  register(ctx) {
    const config = ctx.config;
    ctx.provide(SCORING_RULE, {
      useValue: allowancePaidJobsRule({ blockSeconds: config.blockSeconds, multiplier: config.allowanceMultiplier }),
    });
    ctx.provide(SCORING_RULE, {
      useValue: allowanceSplitRule({
        dancingBonus: config.dancingBonus,
        mainHotkeyShare: config.mainHotkeyShare,
        classWeights: config.classWeights,
      }),
    });
  },
});
