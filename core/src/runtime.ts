// `@horde/core/runtime`: embedding horde in another program (and the devnet): config loading,
// wallets, logger, metrics registry, the root container and plugin loader, and the role starters.
// Plugins never import this entry (the boundary lint refuses it): it reaches into the roles.

// Config: loading, the schema and its sections, wallet files.
export * from './config/index.js';
// Logging, metrics, clock and the root container.
export { createLogger, silentLogger, type LoggerOptions, type LogLevel } from './logging/index.js';
export { createMetricsRegistry, METRICS_PREFIX, type MetricsOptions } from './metrics/index.js';
export { createRuntimeContainer, type RuntimeServices } from './container/container.js';
// The composition root every role's `startX` opens its process with, and its ordered cleanup.
export { openProcess, type OpenProcessOptions, type OpenedProcess, type ProcessRole } from './container/open-process.js';
export { Cleanup } from './container/cleanup.js';
export { SystemClock } from './time/clock.js';
// The plugin loader.
export {
  checkPluginDependencies,
  roleInfrastructure,
  type PluginLoadOptions,
  loadPlugins,
  registerPlugins,
  resolvePluginModule,
  isPathName,
  SHIPPED_PLUGINS,
  type LoadedPlugins,
  type PluginHostConfig,
  type PluginInfo,
  type PluginToRegister,
} from './plugin/index.js';

// The roles, one shape each: `createX(deps)` builds the role from resolved dependencies (tests,
// embedders that own their store and chain); `startX(config, options?)` opens its process with
// `openProcess` and returns `{ logger, close(), … }`.

// Miner
export {
  startMiner,
  createMiner,
  DEFAULT_EXECUTOR_MANAGER_PLUGIN,
  type StartMinerOptions,
  type MinerProcess,
  type MinerDeps,
  type RunningMiner,
} from './miner/index.js';

// Executor agent
export {
  runExecutorAgent,
  createJobRunner,
  DockerJobRunner,
  ProcessJobRunner,
  type ExecutorAgentOptions,
  type ExecutorJobOutcome,
} from './executor/index.js';

// Validator (added by the validator runtime)
export {
  createValidator,
  startValidator,
  runBatch,
  runScoringPipeline,
  ruleContributions,
  ValidatorStore,
  TrustedMinerClient,
  type ValidatorDeps,
  type StartValidatorOptions,
  type ValidatorHandle,
  type ValidatorEvents,
  type ValidatorProgress,
  type ValidatorProcess,
  type BatchResult,
  type JobRecord,
  type ScoringResult,
} from './validator/index.js';

// Facilitator (organic jobs from clients to validators)
export {
  createFacilitator,
  startFacilitator,
  type FacilitatorDeps,
  type FacilitatorHandle,
  type FacilitatorProcess,
  type StartFacilitatorOptions,
} from './facilitator/index.js';

// Miner collateral on the subtensor EVM (contract client, deposits, slashing)
export {
  CollateralBook,
  CollateralContract,
  CollateralError,
  CollateralSlasher,
  deployCollateralContract,
  signAssociation,
  type CollateralErrorCode,
  type CollateralSnapshot,
  type MinerCollateral,
} from './collateral/index.js';
