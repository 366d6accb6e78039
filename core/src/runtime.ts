// `@horde/core/runtime`: embedding horde in another program (and the devnet): config loading,
// wallets, logger, metrics registry, the root container and plugin loader, and the role starters.
// Plugins never import this entry (the boundary lint refuses it): it reaches into the roles.

// Config: loading, the schema and its sections, wallet files.
export * from './config/index.js';
// Logging, metrics, clock and the root container.
export { createLogger, silentLogger, type LoggerOptions, type LogLevel } from './logging/index.js';
export { createMetricsRegistry, METRICS_PREFIX, type MetricsOptions } from './metrics/index.js';
export { createRuntimeContainer, type RuntimeServices } from './container/container.js';
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

// Miner
export {
  startMiner,
  createMiner,
  DEFAULT_EXECUTOR_MANAGER_PLUGIN,
  type StartMinerOptions,
  type StartedMiner,
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
  startValidator,
  startValidatorFromConfig,
  runBatch,
  runScoringPipeline,
  ruleContributions,
  ValidatorStore,
  TrustedMinerClient,
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
export { startFacilitator, startFacilitatorFromConfig, type FacilitatorHandle, type FacilitatorProcess } from './facilitator/index.js';

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
