// The plugin contracts: types and injection tokens only, no logic. Nothing here imports from the
// rest of core, so a plugin that depends on these sees none of the runtime's internals.
export * from './token.js';
export * from './tokens.js';
export type * from './capacity-policy.js';
export type * from './chain.js';
export type * from './clock.js';
export type * from './dancing-strategy.js';
export type * from './executor-manager.js';
export type * from './hardware-class.js';
export type * from './job.js';
export type * from './job-generator.js';
export type * from './job-runner.js';
export type * from './logger.js';
export type * from './metrics.js';
export type * from './object-store.js';
export type * from './receipt.js';
export type * from './scoring-rule.js';
export type * from './store.js';
