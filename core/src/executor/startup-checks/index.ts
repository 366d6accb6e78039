// The executor's startup checks (see ../README.md): what runs before V0ExecutorReadyRequest.
export {
  STARTUP_CHECK_NAMES,
  StartupCheckFailed,
  type StartupCheck,
  type StartupCheckName,
  type CheckContext,
  type CheckFacts,
} from './types.js';
export { StartupCheckSuite, GPU_EXECUTOR_CLASSES, type StartupChecks, type StartupCheckSuiteOptions } from './suite.js';
export { createStartupChecks, DEFAULT_STARTUP_CHECKS, type StartupCheckSettings } from './create.js';
export {
  MIN_NVIDIA_TOOLKIT_VERSION,
  NVIDIA_TOOLKIT_PROGRAMS,
  NvidiaToolkitCheck,
  parseToolkitVersions,
  toolkitVersionIsSafe,
} from './nvidia-toolkit.js';
