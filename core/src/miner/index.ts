// The miner runtime: `startMiner` from a config, `createMiner` from resolved dependencies, and the
// pieces an embedder or a test may want on their own.
export { startMiner, DEFAULT_EXECUTOR_MANAGER_PLUGIN, type StartMinerOptions, type MinerProcess } from './start-miner.js';
export { createMiner, type MinerDeps, type RunningMiner } from './miner.js';
export {
  ExecutorPool,
  DEFAULT_EXECUTOR_TTL_MS,
  DEFAULT_POOL_CLEANUP_INTERVAL_MS,
  type ExecutorGoneEvent,
  type PoolClassUsage,
} from './pool/executor-pool.js';
export { AllExecutorsBusyError, ExecutorUnavailableError, MinerConfigError } from './errors.js';
export { ReceiptPages, receiptPageAt, receiptLine, RECEIPT_PAGE_SECONDS } from './receipts/pages.js';
export { executorLaunch, defaultExecutorCommand } from './executor-launch.js';
export type { PublishResult } from './manifest-publisher.js';
