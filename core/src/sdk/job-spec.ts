import type { SingleFileUpload, SingleVolume } from '../contracts/job.js';
import { uploadModelDump, volumeModelDump } from '../protocol/sdk-signature.js';
import type { JsonValue } from '../protocol/python-json.js';
import { HordeClientError } from './errors.js';

/** Input volumes are mounted under `/volume/`; output volumes are read from under `/output/`. */
export const VOLUME_MOUNT_PREFIX = '/volume/';
export const OUTPUT_MOUNT_PREFIX = '/output/';

/** A base64 zip unpacked at the mount path. */
export interface InlineInputVolume {
  readonly type: 'inline';
  readonly contents: string;
}
/** A Hugging Face repository (or part of it, `allowPatterns`). */
export interface HuggingfaceInputVolume {
  readonly type: 'huggingface';
  readonly repoId: string;
  readonly repoType?: string | null;
  readonly revision?: string | null;
  readonly allowPatterns?: string | string[] | null;
}
/** One file downloaded over HTTP(S) to the mount path. */
export interface HttpInputVolume {
  readonly type: 'http';
  readonly url: string;
}
export type InputVolume = InlineInputVolume | HuggingfaceInputVolume | HttpInputVolume;

/** A file the job writes under `/output/`, uploaded to a (presigned) URL the caller made. */
export interface HttpOutputVolume {
  readonly httpMethod: 'POST' | 'PUT';
  readonly url: string;
  /** POST only: form fields of a presigned POST. */
  readonly formFields?: Record<string, string> | null;
  readonly signedHeaders?: Record<string, string> | null;
}

/** What to run: ComputeHorde's `ComputeHordeJobSpec`. */
export interface HordeJobSpec {
  /** Executor class, e.g. `always_on.gpu-24gb`. */
  readonly executorClass: string;
  /** Where the job comes from, e.g. `SN123.0` (subnet and version). */
  readonly namespace?: string | null;
  /** Docker image, `user/image:tag`. */
  readonly image: string;
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Absolute path whose small files come back as artifacts. */
  readonly artifactsDir?: string | null;
  /** Mount path (under `/volume/`) → how to get the data. */
  readonly inputVolumes?: Readonly<Record<string, InputVolume>>;
  /** File path (under `/output/`) → where to upload it. */
  readonly outputVolumes?: Readonly<Record<string, HttpOutputVolume>>;
  readonly downloadTimeLimitSec: number;
  readonly executionTimeLimitSec: number;
  readonly uploadTimeLimitSec: number;
  /** Charged like the other limits; only streaming jobs use it (default 5, as the SDK). */
  readonly streamingStartTimeLimitSec?: number;
  /**
   * A streaming job: the client makes a certificate and sends it with the job; once the job's
   * server is up, `HordeJob.waitForStreaming()` gives its address, port and certificate, and
   * `streamingTlsOptions()` the options for a mutually authenticated TLS connection to it. The
   * job's server listens on `$HORDE_STREAMING_PORT` (8000 in a container) and answers `GET /health`.
   */
  readonly streaming?: boolean;
}

function relativeTo(prefix: string, path: string, what: string): string {
  if (!path.startsWith(prefix))
    throw new HordeClientError(`${what} paths must start with ${JSON.stringify(prefix)}, got ${JSON.stringify(path)}`, {
      code: 'INVALID_JOB_SPEC',
    });
  return path.slice(prefix.length);
}

function toVolume(mountPath: string, volume: InputVolume): SingleVolume {
  const relative_path = relativeTo(VOLUME_MOUNT_PREFIX, mountPath, 'Input volume');
  switch (volume.type) {
    case 'inline':
      return { volume_type: 'inline', contents: volume.contents, relative_path };
    case 'http':
      return { volume_type: 'single_file', url: volume.url, relative_path };
    case 'huggingface':
      return {
        volume_type: 'huggingface_volume',
        repo_id: volume.repoId,
        repo_type: volume.repoType ?? null,
        revision: volume.revision ?? null,
        relative_path,
        allow_patterns: volume.allowPatterns ?? null,
      };
  }
}

function toUpload(path: string, output: HttpOutputVolume): SingleFileUpload {
  const relative_path = relativeTo(OUTPUT_MOUNT_PREFIX, path, 'Output volume');
  if (output.httpMethod === 'PUT') {
    if (output.formFields) throw new HordeClientError('Form fields are not supported with PUT uploads.', { code: 'INVALID_JOB_SPEC' });
    return { output_upload_type: 'single_file_put', url: output.url, relative_path, signed_headers: output.signedHeaders ?? null };
  }
  return {
    output_upload_type: 'single_file_post',
    url: output.url,
    relative_path,
    form_fields: output.formFields ?? null,
    signed_headers: output.signedHeaders ?? null,
  };
}

/**
 * The `POST /api/v1/job-docker/` body for a spec, field for field what ComputeHorde's SDK sends
 * (volumes and uploads as their pydantic `model_dump()`, which is what the signature covers).
 */
export function jobRequestBody(
  spec: HordeJobSpec,
  validatorHotkey: string,
  onTrustedMiner: boolean,
  streamingCertPem?: string,
): Record<string, JsonValue> {
  const body: Record<string, JsonValue> = {
    target_validator_hotkey: validatorHotkey,
    executor_class: spec.executorClass,
    docker_image: spec.image,
    job_namespace: spec.namespace ?? null,
    args: [...(spec.args ?? [])],
    env: { ...(spec.env ?? {}) },
    use_gpu: true,
    artifacts_dir: spec.artifactsDir ?? null,
    on_trusted_miner: onTrustedMiner,
    download_time_limit: spec.downloadTimeLimitSec,
    execution_time_limit: spec.executionTimeLimitSec,
    streaming_start_time_limit: spec.streamingStartTimeLimitSec ?? 5,
    upload_time_limit: spec.uploadTimeLimitSec,
  };
  if (spec.streaming) {
    if (!streamingCertPem)
      throw new HordeClientError('A streaming job needs the client certificate (createJob makes one).', { code: 'INVALID_JOB_SPEC' });
    body.streaming_details = { public_key: streamingCertPem };
  }
  if (spec.inputVolumes) body.volumes = Object.entries(spec.inputVolumes).map(([path, volume]) => volumeModelDump(toVolume(path, volume)));
  if (spec.outputVolumes)
    body.uploads = Object.entries(spec.outputVolumes).map(([path, output]) => uploadModelDump(toUpload(path, output)));
  return body;
}
