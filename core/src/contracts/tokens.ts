import type { CapacityPolicy } from './capacity-policy.js';
import type { Chain } from './chain.js';
import type { Clock } from './clock.js';
import type { DancingStrategy } from './dancing-strategy.js';
import type { ExecutorManager } from './executor-manager.js';
import type { HardwareClass } from './hardware-class.js';
import type { JobGenerator } from './job-generator.js';
import type { JobRunner } from './job-runner.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { ObjectStore } from './object-store.js';
import type { ScoringRule } from './scoring-rule.js';
import type { Store } from './store.js';
import { createToken } from './token.js';

// Plugin contracts. Single tokens take exactly one provider; multi tokens take any number, kept in
// the order the config lists the plugins.
export const EXECUTOR_MANAGER = createToken<ExecutorManager>('ExecutorManager');
export const DANCING_STRATEGY = createToken<DancingStrategy>('DancingStrategy');
export const CAPACITY_POLICY = createToken<CapacityPolicy>('CapacityPolicy');
export const JOB_GENERATOR = createToken<JobGenerator>('JobGenerator');
export const HARDWARE_CLASS = createToken<HardwareClass>('HardwareClass');
export const SCORING_RULE = createToken<ScoringRule>('ScoringRule');

// Infrastructure the runtime provides to plugins (and plugins may replace where noted in the docs).
export const CHAIN = createToken<Chain>('Chain');
export const STORE = createToken<Store>('Store');
export const OBJECT_STORE = createToken<ObjectStore>('ObjectStore');
export const JOB_RUNNER = createToken<JobRunner>('JobRunner');
export const CLOCK = createToken<Clock>('Clock');
export const LOGGER = createToken<Logger>('Logger');
export const METRICS = createToken<Metrics>('Metrics');

/** Tokens that several plugins may provide; resolved as an array in config order. */
export const MULTI_TOKENS: readonly symbol[] = [JOB_GENERATOR, HARDWARE_CLASS, SCORING_RULE];
/** Tokens a plugin may provide. Anything else is the runtime's business. */
export const PLUGIN_TOKENS: readonly symbol[] = [
  EXECUTOR_MANAGER,
  DANCING_STRATEGY,
  CAPACITY_POLICY,
  JOB_RUNNER,
  CHAIN,
  OBJECT_STORE,
  ...MULTI_TOKENS,
];
