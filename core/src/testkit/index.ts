// `@horde/core/testkit`: test suites and helpers plugin authors run against their plugin.
// Import it from test files only: it imports vitest.
export { runExecutorManagerContract, type ExecutorManagerContractOptions } from './executor-manager-contract.js';
export { loadPluginsForTest, registerPluginForTest, type RegisterPluginOptions } from './register-plugin.js';
// A quiet logger and a private metrics registry, for constructing a plugin's classes directly in its tests.
export { silentLogger } from '../logging/index.js';
export { createMetricsRegistry } from '../metrics/index.js';
export { CONTRACT_PROGRAM, ProgramListener, type ProgramConnection, type ProgramHello } from './contract-programs.js';
export {
  checkScoringRuleContract,
  job,
  neuron,
  runScoringRuleContract,
  scoringFacts,
  signedAcceptedReceipt,
  signedFinishedReceipt,
  signedStartedReceipt,
  testHotkey,
  type AcceptedReceiptFields,
  type FinishedReceiptFields,
  type ScoringScenario,
  type StartedReceiptFields,
} from './scoring.js';
export { SimulatedMiner, type SimulatedJobOutput, type SimulatedMinerOptions } from './simulated-miner.js';
export {
  downloadVolume,
  uploadOutputs,
  S3ObjectStore,
  type DownloadVolumeOptions,
  type UploadOutputsOptions,
  type S3ObjectStoreOptions,
} from './job-stages.js';
