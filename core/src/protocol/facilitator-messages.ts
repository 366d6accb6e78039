import { z } from 'zod';
import {
  hordeFailureReasonSchema,
  jobFailureReasonSchema,
  jobParticipantTypeSchema,
  jobRejectionReasonSchema,
  jobStageSchema,
  jobStatusSchema,
} from './enums.js';
import {
  executorClassSchema,
  failureContextSchema,
  jsonValueSchema,
  outputUploadSchema,
  streamingDetailsSchema,
  volumeSchema,
} from './job-schemas.js';

/**
 * Facilitator ↔ validator messages (compute_horde/fv_protocol/*). Most of these models are
 * `extra="forbid"` in the original, so they are strict objects here too; the few `extra="allow"`
 * ones are loose. `Response` is the one message without a `message_type`.
 */

/**
 * `timestamp_ns` is a 19-digit integer, past what a JS number holds exactly; it is a bigint here.
 * The codec re-reads it from the frame text so no digit is lost (see codec.ts).
 */
export const timestampNsSchema = z
  .union([
    z.bigint(),
    z.number().int().nonnegative().refine(Number.isSafeInteger, 'timestamp_ns lost precision'),
    z.string().regex(/^\d{1,20}$/),
  ])
  .transform((v) => BigInt(v))
  .refine((v) => v >= 0n && v < 2n ** 64n, 'timestamp_ns must fit in 8 bytes');

export const SIGNATURE_SCOPES = ['SignedFields', 'FullRequest'] as const;
export type SignatureScope = (typeof SIGNATURE_SCOPES)[number];

/** `Signature` (compute_horde_core/signature.py); `signature` is base64 on the wire. */
export const sdkSignatureSchema = z.strictObject({
  signature_type: z.string().default(''),
  signatory: z.string().default(''),
  timestamp_ns: timestampNsSchema.default(0n),
  signature: z.base64(),
  signature_scope: z.enum(SIGNATURE_SCOPES).default('SignedFields'),
});
export type SdkSignature = z.infer<typeof sdkSignatureSchema>;

// --- facilitator → validator ---------------------------------------------------------------------

export const responseErrorSchema = z.looseObject({ msg: z.string(), type: z.string(), help: z.string().default('') });

/** The facilitator's answer to authentication and status updates. */
export const responseSchema = z.strictObject({
  status: z.enum(['error', 'success']),
  errors: z.array(responseErrorSchema).default([]),
});

export const v2JobRequestSchema = z.strictObject({
  type: z.literal('job.new').default('job.new'),
  message_type: z.literal('V2JobRequest'),
  uuid: z.string(),
  job_namespace: z.string().nullish(),
  executor_class: executorClassSchema,
  docker_image: z.string(),
  args: z.array(z.string()),
  env: z.record(z.string(), z.string()),
  /** Deprecated, no effect; still part of the signed fields. */
  use_gpu: z.boolean().default(true),
  volume: volumeSchema.nullish(),
  output_upload: outputUploadSchema.nullish(),
  artifacts_dir: z.string().nullish(),
  on_trusted_miner: z.boolean().default(false),
  download_time_limit: z.number().int(),
  execution_time_limit: z.number().int(),
  upload_time_limit: z.number().int(),
  streaming_start_time_limit: z.number().int(),
  streaming_details: streamingDetailsSchema.nullish(),
  /** The end user's SDK signature over the job's SignedFields, forwarded unchanged. */
  signature: sdkSignatureSchema.nullish(),
});

export const v0JobCheatedSchema = z.strictObject({
  type: z.literal('job.cheated').default('job.cheated'),
  message_type: z.literal('V0JobCheated'),
  job_uuid: z.string(),
  trusted_job_uuid: z.string(),
  details: jsonValueSchema,
  signature: sdkSignatureSchema.nullish(),
});

// --- validator → facilitator ---------------------------------------------------------------------

export const v0AuthenticationRequestSchema = z.strictObject({
  message_type: z.literal('V0AuthenticationRequest'),
  /** Hex of the hotkey's 32-byte public key, no 0x. */
  public_key: z.string(),
  /** `0x` + hex of the hotkey's signature over its own public key bytes. */
  signature: z.string(),
});

export const v0HeartbeatSchema = z.strictObject({ message_type: z.literal('V0Heartbeat') });

export const jobResultDetailsSchema = z.looseObject({
  docker_process_stderr: z.string(),
  docker_process_stdout: z.string(),
  artifacts: z.record(z.string(), z.string()).nullish(),
  upload_results: z.record(z.string(), z.string()).nullish(),
});

export const jobRejectionDetailsSchema = z.object({
  rejected_by: jobParticipantTypeSchema,
  reason: jobRejectionReasonSchema,
  message: z.string(),
  context: failureContextSchema.nullish(),
});

export const jobFailureDetailsSchema = z.object({
  reason: jobFailureReasonSchema,
  stage: jobStageSchema,
  message: z.string(),
  context: failureContextSchema.nullish(),
  docker_process_exit_status: z.number().int().nullish(),
  docker_process_stdout: z.string().nullish(),
  docker_process_stderr: z.string().nullish(),
});

export const hordeFailureDetailsSchema = z.object({
  reported_by: jobParticipantTypeSchema,
  reason: hordeFailureReasonSchema,
  message: z.string(),
  context: failureContextSchema.nullish(),
});

export const streamingServerDetailsSchema = z.strictObject({
  streaming_server_cert: z.string().nullish(),
  streaming_server_address: z.string().nullish(),
  streaming_server_port: z.number().int().nullish(),
});

export const jobStatusMetadataSchema = z.looseObject({
  miner_response: jobResultDetailsSchema.nullish(),
  job_rejection_details: jobRejectionDetailsSchema.nullish(),
  job_failure_details: jobFailureDetailsSchema.nullish(),
  horde_failure_details: hordeFailureDetailsSchema.nullish(),
  streaming_details: streamingServerDetailsSchema.nullish(),
});

/** `JobStatusUpdate` in the original; `message_type` is `V0JobStatusUpdate`. */
export const v0JobStatusUpdateSchema = z.strictObject({
  message_type: z.literal('V0JobStatusUpdate'),
  uuid: z.string(),
  status: jobStatusSchema,
  metadata: jobStatusMetadataSchema.nullish(),
});

export const v0MachineSpecsUpdateSchema = z.strictObject({
  message_type: z.literal('V0MachineSpecsUpdate'),
  miner_hotkey: z.string(),
  validator_hotkey: z.string(),
  specs: z.record(z.string(), z.unknown()),
  batch_id: z.string(),
});

export type FacilitatorResponse = z.infer<typeof responseSchema>;
export type V2JobRequest = z.infer<typeof v2JobRequestSchema>;
export type V0JobCheated = z.infer<typeof v0JobCheatedSchema>;
export type V0AuthenticationRequest = z.infer<typeof v0AuthenticationRequestSchema>;
export type V0Heartbeat = z.infer<typeof v0HeartbeatSchema>;
export type JobStatusMetadata = z.infer<typeof jobStatusMetadataSchema>;
export type V0JobStatusUpdate = z.infer<typeof v0JobStatusUpdateSchema>;
export type V0MachineSpecsUpdate = z.infer<typeof v0MachineSpecsUpdateSchema>;

export type FacilitatorToValidatorMessage = FacilitatorResponse | V2JobRequest | V0JobCheated;
export type ValidatorToFacilitatorMessage = V0AuthenticationRequest | V0Heartbeat | V0JobStatusUpdate | V0MachineSpecsUpdate;
