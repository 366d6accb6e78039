// The executor agent (`horde executor`) and what it is made of, for embedding.
export { runExecutorAgent, DEFAULT_STARTUP_TIME_LIMIT_SECONDS, type ExecutorAgentOptions } from './agent/run-executor-agent.js';
export { createJobRunner, type RunnerChoice } from './agent/create-runner.js';
export { ExecutorJobDriver, type ExecutorJobDriverOptions, type ExecutorJobOutcome, type JobChannel } from './agent/job-driver.js';
export { MinerChannel, MinerChannelError, executorInterfaceUrl } from './agent/miner-channel.js';
export { HordeFailure, JobFailure } from './agent/failures.js';
export {
  createStartupChecks,
  DEFAULT_STARTUP_CHECKS,
  STARTUP_CHECK_NAMES,
  StartupCheckFailed,
  type StartupCheckName,
  type StartupCheckSettings,
  type StartupChecks,
} from './startup-checks/index.js';
// The executor's volume and output-upload stages, which job-generator tests run on their specs.
export { downloadVolume, VolumeDownloadError, type DownloadVolumeOptions } from './volumes.js';
export { uploadOutputs, OutputUploadError, type UploadOutputsOptions } from './uploads.js';
// The shipped JobRunner implementations (the `JOB_RUNNER` contract), for embedding and tests.
export { DockerJobRunner } from './runners/docker.js';
export { ProcessJobRunner } from './runners/process.js';
