import { z } from 'zod';
import {
  hordeFailureReasonSchema,
  jobFailureReasonSchema,
  jobParticipantTypeSchema,
  jobRejectionReasonSchema,
  jobStageSchema,
  unauthorizedCodeSchema,
} from './enums.js';
import {
  dockerRunOptionsPresetSchema,
  executorClassSchema,
  failureContextSchema,
  outputUploadSchema,
  streamingDetailsSchema,
  volumeSchema,
} from './job-schemas.js';
import {
  jobAcceptedReceiptPayloadSchema,
  jobFinishedReceiptPayloadSchema,
  jobStartedReceiptPayloadSchema,
  receiptSchema,
} from './receipt-schemas.js';

/**
 * Validator ↔ miner ↔ executor messages (compute_horde/protocol_messages.py, ComputeHorde v0.1).
 * Field names and defaults are the original's; every message carries `message_type` = its class
 * name. Extra fields are dropped, as pydantic does by default. `optional()`/`nullish()` fields are
 * the ones declared `X | None = None` there; fields with a non-null default use `.default()`.
 */

const type = <T extends string>(name: T) => z.literal(name);

export const genericErrorSchema = z.object({
  message_type: type('GenericError'),
  details: z.string().nullish(),
});

export const validatorAuthForMinerSchema = z.object({
  message_type: type('ValidatorAuthForMiner'),
  validator_hotkey: z.string(),
  miner_hotkey: z.string(),
  timestamp: z.number().int(),
  signature: z.string(),
});

export const unauthorizedErrorSchema = z.object({
  message_type: type('UnauthorizedError'),
  code: unauthorizedCodeSchema,
  details: z.string().nullish(),
});

export const v0ExecutorManifestRequestSchema = z.object({
  message_type: type('V0ExecutorManifestRequest'),
  manifest: z.record(executorClassSchema, z.number().int().nonnegative()),
});

export const v0MainHotkeyMessageSchema = z.object({
  message_type: type('V0MainHotkeyMessage'),
  main_hotkey: z.string().nullish(),
});

export const executorTimingSchema = z.object({
  allowed_leeway: z.number().int(),
  download_time_limit: z.number().int(),
  execution_time_limit: z.number().int(),
  upload_time_limit: z.number().int(),
  streaming_start_time_limit: z.number().int(),
});

export const v0InitialJobRequestSchema = z.object({
  message_type: type('V0InitialJobRequest'),
  job_uuid: z.string(),
  executor_class: executorClassSchema,
  docker_image: z.string().nullish(),
  /** Deprecated in the original: the single overall limit used when `executor_timing` is absent. */
  timeout_seconds: z.number().int().nullish(),
  volume: volumeSchema.nullish(),
  job_started_receipt_payload: jobStartedReceiptPayloadSchema,
  job_started_receipt_signature: z.string(),
  streaming_details: streamingDetailsSchema.nullish(),
  executor_timing: executorTimingSchema.nullish(),
});

export const v0AcceptJobRequestSchema = z.object({
  message_type: type('V0AcceptJobRequest'),
  job_uuid: z.string(),
});

export const v0DeclineJobRequestSchema = z.object({
  message_type: type('V0DeclineJobRequest'),
  job_uuid: z.string(),
  message: z.string().default(''),
  reason: jobRejectionReasonSchema.default('unknown'),
  /** Busy excuses: the miner's other JobStartedReceipts of the same class. */
  receipts: z.array(receiptSchema).default([]),
  context: failureContextSchema.nullish(),
});

export const v0ExecutorReadyRequestSchema = z.object({
  message_type: type('V0ExecutorReadyRequest'),
  job_uuid: z.string(),
  /** Set only on the miner's internal executor → validator hop; stripped before the validator. */
  executor_token: z.string().nullish(),
});

export const v0JobRequestSchema = z.object({
  message_type: type('V0JobRequest'),
  job_uuid: z.string(),
  executor_class: executorClassSchema,
  docker_image: z.string(),
  raw_script: z.string().nullish(),
  docker_run_options_preset: dockerRunOptionsPresetSchema,
  docker_run_cmd: z.array(z.string()),
  env: z.record(z.string(), z.string()).default({}),
  volume: volumeSchema.nullish(),
  output_upload: outputUploadSchema.nullish(),
  artifacts_dir: z.string().nullish(),
});

export const v0VolumesReadyRequestSchema = z.object({
  message_type: type('V0VolumesReadyRequest'),
  job_uuid: z.string(),
});

export const v0StreamingJobReadyRequestSchema = z.object({
  message_type: type('V0StreamingJobReadyRequest'),
  job_uuid: z.string(),
  executor_token: z.string().nullish(),
  /** The executor's TLS certificate (PEM). */
  public_key: z.string(),
  /** Filled in by the miner. */
  ip: z.string().nullish(),
  port: z.number().int(),
  /** The miner's signature of `streamingReadyBlob(msg)`. */
  miner_signature: z.string().nullish(),
});

export const v0ExecutionDoneRequestSchema = z.object({
  message_type: type('V0ExecutionDoneRequest'),
  job_uuid: z.string(),
});

export const v0MachineSpecsRequestSchema = z.object({
  message_type: type('V0MachineSpecsRequest'),
  job_uuid: z.string(),
  specs: z.object({ specs: z.record(z.string(), z.unknown()) }),
});

export const v0JobFinishedRequestSchema = z.object({
  message_type: type('V0JobFinishedRequest'),
  job_uuid: z.string(),
  docker_process_stdout: z.string(),
  docker_process_stderr: z.string(),
  /** Container path → base64 contents. */
  artifacts: z.record(z.string(), z.string()).nullish(),
  /** Upload key → JSON `{headers, body}` of the upload response. */
  upload_results: z.record(z.string(), z.string()).nullish(),
});

const v0JobFailedRequestObject = z.object({
  message_type: type('V0JobFailedRequest'),
  job_uuid: z.string(),
  message: z.string().default(''),
  reason: jobFailureReasonSchema.default('unknown'),
  stage: jobStageSchema.default('unknown'),
  docker_process_exit_status: z.number().int().nullish(),
  docker_process_stdout: z.string().nullish(),
  docker_process_stderr: z.string().nullish(),
  context: failureContextSchema.nullish(),
});

/**
 * Older executors send `error_detail`/`error_type` for `message`/`reason`; the original accepts both
 * (pydantic AliasChoices, the current name first).
 */
export const v0JobFailedRequestSchema = z.preprocess((input) => {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const obj = input as Record<string, unknown>;
  if (('message' in obj || !('error_detail' in obj)) && ('reason' in obj || !('error_type' in obj))) return obj;
  const mapped = { ...obj };
  if (!('message' in obj) && 'error_detail' in obj) mapped.message = obj.error_detail;
  if (!('reason' in obj) && 'error_type' in obj) mapped.reason = obj.error_type;
  return mapped;
}, v0JobFailedRequestObject);

export const v0HordeFailedRequestSchema = z.object({
  message_type: type('V0HordeFailedRequest'),
  job_uuid: z.string(),
  reported_by: jobParticipantTypeSchema,
  message: z.string(),
  reason: hordeFailureReasonSchema,
  context: failureContextSchema.nullish(),
});

export const v0JobAcceptedReceiptRequestSchema = z.object({
  message_type: type('V0JobAcceptedReceiptRequest'),
  payload: jobAcceptedReceiptPayloadSchema,
  signature: z.string(),
});

export const v0JobFinishedReceiptRequestSchema = z.object({
  message_type: type('V0JobFinishedReceiptRequest'),
  payload: jobFinishedReceiptPayloadSchema,
  signature: z.string(),
});

/** Deprecated: parsed only to be mapped to `V0HordeFailedRequest` (reason generic_error). */
export const v0ExecutorFailedRequestSchema = z.object({
  message_type: type('V0ExecutorFailedRequest'),
  job_uuid: z.string(),
  executor_token: z.string().nullish(),
});

/** Deprecated: parsed only to be mapped to `V0HordeFailedRequest` (reason streaming_failed). */
export const v0StreamingJobNotReadyRequestSchema = z.object({
  message_type: type('V0StreamingJobNotReadyRequest'),
  job_uuid: z.string(),
  executor_token: z.string().nullish(),
});

export type GenericError = z.infer<typeof genericErrorSchema>;
export type ValidatorAuthForMiner = z.infer<typeof validatorAuthForMinerSchema>;
export type UnauthorizedError = z.infer<typeof unauthorizedErrorSchema>;
export type V0ExecutorManifestRequest = z.infer<typeof v0ExecutorManifestRequestSchema>;
export type V0MainHotkeyMessage = z.infer<typeof v0MainHotkeyMessageSchema>;
export type ExecutorTiming = z.infer<typeof executorTimingSchema>;
export type V0InitialJobRequest = z.infer<typeof v0InitialJobRequestSchema>;
export type V0AcceptJobRequest = z.infer<typeof v0AcceptJobRequestSchema>;
export type V0DeclineJobRequest = z.infer<typeof v0DeclineJobRequestSchema>;
export type V0ExecutorReadyRequest = z.infer<typeof v0ExecutorReadyRequestSchema>;
export type V0JobRequest = z.infer<typeof v0JobRequestSchema>;
export type V0VolumesReadyRequest = z.infer<typeof v0VolumesReadyRequestSchema>;
export type V0StreamingJobReadyRequest = z.infer<typeof v0StreamingJobReadyRequestSchema>;
export type V0ExecutionDoneRequest = z.infer<typeof v0ExecutionDoneRequestSchema>;
export type V0MachineSpecsRequest = z.infer<typeof v0MachineSpecsRequestSchema>;
export type V0JobFinishedRequest = z.infer<typeof v0JobFinishedRequestSchema>;
export type V0JobFailedRequest = z.infer<typeof v0JobFailedRequestObject>;
export type V0HordeFailedRequest = z.infer<typeof v0HordeFailedRequestSchema>;
export type V0JobAcceptedReceiptRequest = z.infer<typeof v0JobAcceptedReceiptRequestSchema>;
export type V0JobFinishedReceiptRequest = z.infer<typeof v0JobFinishedReceiptRequestSchema>;
export type V0ExecutorFailedRequest = z.infer<typeof v0ExecutorFailedRequestSchema>;
export type V0StreamingJobNotReadyRequest = z.infer<typeof v0StreamingJobNotReadyRequestSchema>;

export type ValidatorToMinerMessage =
  | GenericError
  | ValidatorAuthForMiner
  | V0InitialJobRequest
  | V0JobRequest
  | V0JobAcceptedReceiptRequest
  | V0JobFinishedReceiptRequest
  | V0MainHotkeyMessage;

export type MinerToExecutorMessage = GenericError | V0InitialJobRequest | V0JobRequest;

/** Deprecated executor messages are mapped to `V0HordeFailedRequest` by the codec, so they are not here. */
export type ExecutorToMinerMessage =
  | GenericError
  | V0ExecutorReadyRequest
  | V0StreamingJobReadyRequest
  | V0VolumesReadyRequest
  | V0ExecutionDoneRequest
  | V0JobFailedRequest
  | V0JobFinishedRequest
  | V0MachineSpecsRequest
  | V0HordeFailedRequest;

export type MinerToValidatorMessage =
  | GenericError
  | UnauthorizedError
  | V0ExecutorManifestRequest
  | V0MainHotkeyMessage
  | V0DeclineJobRequest
  | V0AcceptJobRequest
  | V0ExecutorReadyRequest
  | V0StreamingJobReadyRequest
  | V0JobFailedRequest
  | V0VolumesReadyRequest
  | V0ExecutionDoneRequest
  | V0JobFinishedRequest
  | V0MachineSpecsRequest
  | V0HordeFailedRequest;

/** Every message of the validator ↔ miner ↔ executor protocol, by its `message_type`. */
export const JOB_PROTOCOL_SCHEMAS = {
  GenericError: genericErrorSchema,
  ValidatorAuthForMiner: validatorAuthForMinerSchema,
  UnauthorizedError: unauthorizedErrorSchema,
  V0ExecutorManifestRequest: v0ExecutorManifestRequestSchema,
  V0MainHotkeyMessage: v0MainHotkeyMessageSchema,
  V0InitialJobRequest: v0InitialJobRequestSchema,
  V0AcceptJobRequest: v0AcceptJobRequestSchema,
  V0DeclineJobRequest: v0DeclineJobRequestSchema,
  V0ExecutorReadyRequest: v0ExecutorReadyRequestSchema,
  V0JobRequest: v0JobRequestSchema,
  V0VolumesReadyRequest: v0VolumesReadyRequestSchema,
  V0StreamingJobReadyRequest: v0StreamingJobReadyRequestSchema,
  V0ExecutionDoneRequest: v0ExecutionDoneRequestSchema,
  V0MachineSpecsRequest: v0MachineSpecsRequestSchema,
  V0JobFinishedRequest: v0JobFinishedRequestSchema,
  V0JobFailedRequest: v0JobFailedRequestSchema,
  V0HordeFailedRequest: v0HordeFailedRequestSchema,
  V0JobAcceptedReceiptRequest: v0JobAcceptedReceiptRequestSchema,
  V0JobFinishedReceiptRequest: v0JobFinishedReceiptRequestSchema,
  V0ExecutorFailedRequest: v0ExecutorFailedRequestSchema,
  V0StreamingJobNotReadyRequest: v0StreamingJobNotReadyRequestSchema,
} as const;
