import { definePlugin, SCORING_RULE, type ScoringRule } from '@horde/core';
import { type ClassicRuleName, type ScoringClassicConfig, scoringClassicConfig } from './config.js';
import { classWeightsRule } from './rules/class-weights.js';
import { dancingBonusRule } from './rules/dancing-bonus.js';
import { excusedRejectionsRule } from './rules/excused-rejections.js';
import { executorTimeRule } from './rules/executor-time.js';
import { organicJobsRule } from './rules/organic-jobs.js';
import { syntheticJobsRule } from './rules/synthetic-jobs.js';

export * from './rules/class-weights.js';
export * from './rules/dancing-bonus.js';
export * from './rules/excuse-receipts.js';
export * from './rules/excused-rejections.js';
export * from './rules/executor-time.js';
export * from './rules/organic-jobs.js';
export * from './rules/synthetic-jobs.js';
export { CLASSIC_DEFAULTS } from './defaults.js';
export { CLASSIC_RULES, OPTIONAL_RULES, scoringClassicConfig, type ClassicRuleName, type ScoringClassicConfig } from './config.js';

/** Builds one rule from the plugin's config. */
export function classicRule(name: ClassicRuleName, config: ScoringClassicConfig): ScoringRule {
  switch (name) {
    case 'synthetic-jobs':
      return syntheticJobsRule({ pointsPerJob: config.syntheticJobPoints });
    case 'organic-jobs':
      return organicJobsRule({ pointsPerJob: config.organicJobPoints });
    case 'excused-rejections':
      return excusedRejectionsRule({
        pointsPerJob: config.excusedJobPoints,
        minimumValidatorStake: config.excuseMinimumValidatorStake,
        leewayMs: config.excuseLeewaySeconds * 1000,
      });
    case 'executor-time':
      return executorTimeRule({
        pointsPerMinute: config.executorTimePointsPerMinute,
        minimumValidatorStake: config.executorTimeMinimumValidatorStake,
      });
    case 'dancing-bonus':
      return dancingBonusRule({ bonus: config.dancingBonus, mainHotkeyShare: config.mainHotkeyShare });
    case 'class-weights':
      return classWeightsRule({ classWeights: config.classWeights });
  }
}

/**
 * ComputeHorde's classic scoring as five rules, provided in the order of `rules`: points for
 * synthetic jobs, organic jobs and excused rejections, the dancing bonus, then class weights.
 */
export default definePlugin({
  name: '@horde/plugin-scoring-classic',
  version: '0.1.0',
  apiRange: '^1.0.0',
  description: 'Classic scoring: job points, excused rejections, dancing bonus, class weights',
  provides: [SCORING_RULE],
  configSchema: scoringClassicConfig,
  register(ctx) {
    for (const name of ctx.config.rules) ctx.provide(SCORING_RULE, { useValue: classicRule(name, ctx.config) });
  },
});
