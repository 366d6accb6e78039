// `@horde/core/sdk`: the client of a facilitator, for programs that submit organic jobs.
export {
  DEFAULT_HTTP_ATTEMPTS,
  DEFAULT_MAX_JOB_ATTEMPTS,
  DEFAULT_POLL_INTERVAL_MS,
  HordeClient,
  HordeJob,
  type CreateJobOptions,
  type HordeClientOptions,
  type HordeJobResult,
  type RunUntilCompleteOptions,
  type StatusChange,
  type StreamingServer,
  type StreamingTlsOptions,
  type UploadResult,
  type WaitOptions,
} from './client.js';
export { backoffDelayMs } from './backoff.js';
export { HordeClientError, JobNotFoundError, JobTimeoutError, StreamingNotReadyError } from './errors.js';
export {
  jobRequestBody,
  OUTPUT_MOUNT_PREFIX,
  VOLUME_MOUNT_PREFIX,
  type HordeJobSpec,
  type HttpInputVolume,
  type HttpOutputVolume,
  type HuggingfaceInputVolume,
  type InlineInputVolume,
  type InputVolume,
} from './job-spec.js';
export { loadHotkey, type Hotkey, type HotkeySource } from '../keys/index.js';
export type { JobStatus } from '../protocol/enums.js';
export type { JobStatusMetadata } from '../protocol/facilitator-messages.js';
