// The validator role: synthetic batches, scoring, weights. Embedders use `createValidator`
// (explicit components) or `startValidator` (what `horde validator` runs).
export { runBatch, generatorFor, type BatchDeps, type BatchHooks, type BatchResult, type BatchSettings } from './batch.js';
export { batchSlotBlock, cycleByIndex, cycleOf, type CycleRange } from './cycles.js';
export {
  BatchAbortedError,
  MinerConnectionError,
  MinerProtocolError,
  MinerTimeoutError,
  ValidatorConfigError,
  WeightSettingError,
} from './errors.js';
export { startValidator, type StartValidatorOptions, type ValidatorProcess } from './from-config.js';
export { ValidatorJobDriver, type JobRecord, type ValidatorJobLimits } from './job-driver.js';
export { MinerConnection, type MinerTarget } from './miner-client.js';
export { ruleContributions, runScoringPipeline, type HotkeyWeight, type ScoringResult, type ScoringStep } from './scoring/engine.js';
export { buildCycleFacts } from './scoring/facts.js';
export { verifyValidatorSignatureSync } from '../protocol/receipt-signature.js';
export {
  batchSettings,
  minerTargets,
  createValidator,
  type ValidatorDeps,
  type ValidatorEvents,
  type ValidatorHandle,
  type ValidatorPhase,
  type ValidatorProgress,
} from './service.js';
export { ValidatorStore, type OrganicJobRecord } from './store.js';
export { checkMachineSpecs, compareVersions, gpuModelMatches, hasSpecRequirements, type SpecCheck } from './spec-check.js';
export { refuseSharedGpus, type GpuRegistryResult, type SharedGpu } from './gpu-registry.js';
export { crossCheckOrganicJob, shouldCrossCheck, TrustedMinerClient, TrustedMinerError } from './trusted-miner.js';
export { WeightSetter } from './weights.js';
export {
  MinerRouter,
  OrganicService,
  OrganicStore,
  FacilitatorClient,
  type OrganicEvents,
  type OrganicJobOutcome,
} from './organic/index.js';
export * from './receipts/index.js';
