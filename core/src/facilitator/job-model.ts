import { z } from 'zod';
import type { OutputUpload, SingleVolume, Volume } from '../contracts/job.js';
import type { JobStatus } from '../protocol/enums.js';
import type { JobStatusMetadata, SdkSignature, V2JobRequest } from '../protocol/facilitator-messages.js';
import {
  executorClassSchema,
  singleFilePostUploadSchema,
  singleFilePutUploadSchema,
  singleVolumeSchema,
  zipAndHttpPostUploadSchema,
  zipAndHttpPutUploadSchema,
} from '../protocol/job-schemas.js';
import { signedFieldsFromJobRequest, signedFieldsFromSdkJson, signedFieldsJson } from '../protocol/sdk-signature.js';
import { ApiError } from './errors.js';

/**
 * `POST /api/v1/job-docker/` body: what ComputeHorde's SDK `create_job` sends. Volumes and uploads
 * are lists in the body (the SDK's `model_dump()` of each); the facilitator folds them into the
 * single `volume` / `output_upload` of `V2JobRequest` (several → `multi_volume` / `multi_upload`).
 * Unknown fields are ignored, as Django REST framework does.
 */
const seconds = z.number().int().nonnegative();
export const createJobBodySchema = z.object({
  target_validator_hotkey: z.string().min(1),
  executor_class: executorClassSchema,
  docker_image: z.string().min(1),
  job_namespace: z.string().max(256).nullish(),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  use_gpu: z.boolean().default(false),
  artifacts_dir: z.string().nullish(),
  on_trusted_miner: z.boolean().default(false),
  download_time_limit: seconds,
  execution_time_limit: z.number().int().positive(),
  upload_time_limit: seconds,
  streaming_start_time_limit: seconds.default(0),
  streaming_details: z.object({ public_key: z.string(), executor_ip: z.string().nullish() }).nullish(),
  volumes: z.array(singleVolumeSchema).default([]),
  uploads: z
    .array(
      z.discriminatedUnion('output_upload_type', [
        singleFilePostUploadSchema,
        singleFilePutUploadSchema,
        zipAndHttpPostUploadSchema,
        zipAndHttpPutUploadSchema,
      ]),
    )
    .default([]),
});
export type CreateJobBody = z.output<typeof createJobBodySchema>;

/** `POST /api/v1/jobs/{uuid}/cheated/` body; the whole body is what the X-CH signature covers. */
export const cheatReportBodySchema = z.strictObject({
  job_uuid: z.string().min(1),
  trusted_job_uuid: z.string().min(1),
  details: z.json().nullable(),
});
export type CheatReportBody = z.output<typeof cheatReportBodySchema>;

function foldVolumes(volumes: readonly SingleVolume[]): Volume | null {
  if (volumes.length === 0) return null;
  if (volumes.length === 1) return volumes[0]!;
  return { volume_type: 'multi_volume', volumes: [...volumes] };
}

function foldUploads(uploads: CreateJobBody['uploads']): OutputUpload | null {
  if (uploads.length === 0) return null;
  if (uploads.length === 1) return uploads[0]!;
  const single = uploads.filter((u) => u.output_upload_type === 'single_file_post' || u.output_upload_type === 'single_file_put');
  if (single.length !== uploads.length) {
    throw new ApiError(
      'BAD_REQUEST',
      'A zip upload must be the only entry of "uploads"; several uploads must all be single_file_post / single_file_put.',
    );
  }
  return { output_upload_type: 'multi_upload', uploads: single };
}

/** The message that carries a stored job to its validator. */
export function jobRequestFor(uuid: string, body: CreateJobBody, signature: SdkSignature): V2JobRequest {
  return {
    type: 'job.new',
    message_type: 'V2JobRequest',
    uuid,
    job_namespace: body.job_namespace ?? null,
    executor_class: body.executor_class,
    docker_image: body.docker_image,
    args: body.args,
    env: body.env,
    use_gpu: body.use_gpu,
    volume: foldVolumes(body.volumes),
    output_upload: foldUploads(body.uploads),
    artifacts_dir: body.artifacts_dir ?? null,
    on_trusted_miner: body.on_trusted_miner,
    download_time_limit: body.download_time_limit,
    execution_time_limit: body.execution_time_limit,
    upload_time_limit: body.upload_time_limit,
    streaming_start_time_limit: body.streaming_start_time_limit,
    streaming_details: body.streaming_details
      ? { public_key: body.streaming_details.public_key, executor_ip: body.streaming_details.executor_ip ?? null }
      : null,
    signature,
  };
}

/**
 * The validator re-derives the signed fields from the `V2JobRequest` (pydantic `model_dump()` of
 * each volume and upload), while the facilitator verifies them as the body spelled them. A body
 * whose volumes leave out optional fields (or order them differently) verifies here but would be
 * refused there as `invalid_signature`; refuse it now, with the reason.
 */
export function assertValidatorWillVerify(rawBody: Readonly<Record<string, unknown>>, request: V2JobRequest): void {
  const asSent = signedFieldsJson(signedFieldsFromSdkJson(rawBody));
  const asRelayed = signedFieldsJson(signedFieldsFromJobRequest(request));
  if (asSent !== asRelayed) {
    throw new ApiError(
      'BAD_REQUEST',
      'The signed fields of this job would not verify at the validator: give each entry of "volumes" and "uploads" in full, every field of its model in declaration order (pydantic model_dump()).',
    );
  }
}

/** ComputeHorde SDK's `ComputeHordeJobStatus` names; `horde_failed` shows as `Failed` (the SDK knows no other failure). */
const DISPLAY_STATUS: Record<JobStatus, string> = {
  sent: 'Sent',
  received: 'Received',
  accepted: 'Accepted',
  executor_ready: 'Executor Ready',
  streaming_ready: 'Streaming Ready',
  volumes_ready: 'Volumes Ready',
  execution_done: 'Execution Done',
  completed: 'Completed',
  rejected: 'Rejected',
  failed: 'Failed',
  horde_failed: 'Failed',
  unknown: 'Sent',
};

export function displayStatus(status: JobStatus): string {
  return DISPLAY_STATUS[status];
}

export interface StatusEntry {
  /** The update's place in the job's history (1: `sent`); null for rows stored before sequence numbers. */
  readonly seq: number | null;
  readonly status: JobStatus;
  readonly metadata: JobStatusMetadata | null;
  readonly createdAt: number;
}

export interface StoredJob {
  readonly uuid: string;
  readonly userHotkey: string;
  readonly targetValidatorHotkey: string;
  readonly body: CreateJobBody;
  readonly signature: SdkSignature;
  readonly status: JobStatus;
  readonly stdout: string;
  readonly stderr: string;
  readonly artifacts: Record<string, string>;
  readonly uploadResults: Record<string, string>;
  readonly streamingServerCert: string | null;
  readonly streamingServerAddress: string | null;
  readonly streamingServerPort: number | null;
  /** When the job was last sent to its validator, and by which facilitator worker (its session pid); null: not yet / single process. */
  readonly dispatchedAt: number | null;
  readonly dispatchedBy: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** One entry of a job's `status_history` as the API returns it. */
export function statusEntryResponse(entry: StatusEntry) {
  return { status: entry.status, metadata: entry.metadata, created_at: iso(entry.createdAt), seq: entry.seq };
}

/**
 * The job as the API returns it: the fields ComputeHorde's `FacilitatorJobResponse` reads (`uuid`,
 * `executor_class`, `created_at`, `status`, `docker_image`, `args`, `env`, `stdout`, `stderr`,
 * `artifacts`, `upload_results`, `streaming_server_*`), plus the request as stored and the full
 * `status_history` with the validator's raw statuses and metadata.
 */
export function jobResponse(job: StoredJob, history: readonly StatusEntry[]) {
  const { body } = job;
  return {
    uuid: job.uuid,
    executor_class: body.executor_class,
    created_at: iso(job.createdAt),
    last_update: iso(job.updatedAt),
    status: displayStatus(job.status),
    docker_image: body.docker_image,
    job_namespace: body.job_namespace ?? null,
    args: body.args,
    env: body.env,
    use_gpu: body.use_gpu,
    artifacts_dir: body.artifacts_dir ?? null,
    on_trusted_miner: body.on_trusted_miner,
    target_validator_hotkey: job.targetValidatorHotkey,
    download_time_limit: body.download_time_limit,
    execution_time_limit: body.execution_time_limit,
    upload_time_limit: body.upload_time_limit,
    streaming_start_time_limit: body.streaming_start_time_limit,
    volumes: body.volumes,
    uploads: body.uploads,
    stdout: job.stdout,
    stderr: job.stderr,
    artifacts: job.artifacts,
    upload_results: job.uploadResults,
    streaming_server_cert: job.streamingServerCert,
    streaming_server_address: job.streamingServerAddress,
    streaming_server_port: job.streamingServerPort,
    status_history: history.map(statusEntryResponse),
  };
}
export type JobResponse = ReturnType<typeof jobResponse>;
