// `@horde/core/runtime`: the role runtimes, for embedding horde in another program (and for the
// devnet). Plugins never import this entry: it reaches into the roles' internals.

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
export { runExecutorAgent, createJobRunner, DockerJobRunner, ProcessJobRunner, type ExecutorAgentOptions, type JobDriverOutcome } from './executor/index.js';

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
