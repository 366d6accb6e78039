/**
 * Job shapes shared by the contracts. Field names of `Volume` and `OutputUpload` are exactly those
 * ComputeHorde v0.1 puts on the wire (snake_case), so a job spec made by a `JobGenerator` goes into a
 * `V0JobRequest` unchanged. The protocol's zod schemas are checked against these types.
 */

export type InlineVolume = { volume_type: 'inline'; contents: string; relative_path?: string | null };
export type ZipUrlVolume = { volume_type: 'zip_url'; contents: string; relative_path?: string | null };
export type SingleFileVolume = { volume_type: 'single_file'; url: string; relative_path: string };
export type HuggingfaceVolume = {
  volume_type: 'huggingface_volume';
  repo_id: string;
  repo_type?: string | null;
  revision?: string | null;
  relative_path?: string | null;
  allow_patterns?: string | string[] | null;
  token?: string | null;
};
export type SingleVolume = InlineVolume | ZipUrlVolume | SingleFileVolume | HuggingfaceVolume;
export type MultiVolume = { volume_type: 'multi_volume'; volumes: SingleVolume[] };
/** What the executor downloads into `/volume` before the job runs. */
export type Volume = SingleVolume | MultiVolume;

export type ZipAndHttpPostUpload = { output_upload_type: 'zip_and_http_post'; url: string; form_fields?: Record<string, string> | null };
export type ZipAndHttpPutUpload = { output_upload_type: 'zip_and_http_put'; url: string };
export type SingleFilePostUpload = {
  output_upload_type: 'single_file_post';
  url: string;
  form_fields?: Record<string, string> | null;
  relative_path: string;
  signed_headers?: Record<string, string> | null;
};
export type SingleFilePutUpload = {
  output_upload_type: 'single_file_put';
  url: string;
  relative_path: string;
  signed_headers?: Record<string, string> | null;
};
export type SingleFileUpload = SingleFilePostUpload | SingleFilePutUpload;
export type MultiUpload = {
  output_upload_type: 'multi_upload';
  uploads: SingleFileUpload[];
  system_output?: ZipAndHttpPostUpload | ZipAndHttpPutUpload | null;
};
/** Where the executor sends the contents of `/output` after the job. */
export type OutputUpload = ZipAndHttpPostUpload | ZipAndHttpPutUpload | SingleFileUpload | MultiUpload;

/** `docker_run_options_preset` on the wire: GPU classes get every GPU, the rest none. */
export type DockerRunOptionsPreset = 'nvidia_all' | 'none';

/**
 * Per-stage time limits in seconds (`executor_timing` on the wire). The executor's deadline starts
 * at `allowed_leeway` and is extended by each stage's limit as the stage begins, so time a stage
 * does not use carries over to the next.
 */
export interface JobTiming {
  allowedLeewaySeconds: number;
  downloadTimeLimitSeconds: number;
  executionTimeLimitSeconds: number;
  uploadTimeLimitSeconds: number;
  streamingStartTimeLimitSeconds: number;
}

/** Everything a miner needs to run one job: what goes into `V0InitialJobRequest` and `V0JobRequest`. */
export interface JobSpec {
  executorClass: string;
  image: string;
  /** `docker_run_cmd`: the container's command; empty means the image's default. */
  command: string[];
  env: Record<string, string>;
  rawScript?: string;
  dockerRunOptionsPreset: DockerRunOptionsPreset;
  volume?: Volume;
  /** Send the volume with the initial request (lets the executor fetch it while it starts). */
  volumeInInitialRequest?: boolean;
  outputUpload?: OutputUpload;
  /** Container path whose small files come back base64 in `artifacts`. */
  artifactsDir?: string;
  /**
   * A streaming job: the client's TLS certificate (PEM, `streaming_details.public_key`). The
   * executor puts an mTLS proxy that admits only this certificate in front of the job's server
   * and reports `V0StreamingJobReadyRequest` once the server answers /health.
   */
  streamingPublicKey?: string;
  timing: JobTiming;
}

/** What came back from a finished job (`V0JobFinishedRequest`), as the validator verifies it. */
export interface JobResult {
  stdout: string;
  stderr: string;
  /** Path inside the container → base64 contents. */
  artifacts: Record<string, string>;
  /** Upload key → JSON string `{headers, body}` of the upload response. */
  uploadResults: Record<string, string>;
  /** Wall time from sending `V0JobRequest` to receiving `V0JobFinishedRequest`. */
  timeTookMs: number;
}
