import { z } from 'zod';
import type {
  DockerRunOptionsPreset,
  HuggingfaceVolume,
  InlineVolume,
  MultiUpload,
  MultiVolume,
  OutputUpload,
  SingleFilePostUpload,
  SingleFilePutUpload,
  SingleFileVolume,
  SingleVolume,
  Volume,
  ZipAndHttpPostUpload,
  ZipAndHttpPutUpload,
  ZipUrlVolume,
} from '../contracts/job.js';

/**
 * The volume and output-upload unions (compute_horde_core/volume/_models.py and
 * output_upload/_models.py), discriminated by `volume_type` / `output_upload_type`. Unknown extra
 * fields are dropped, as pydantic does by default. Each schema is checked against the wire-shaped
 * contract type so the two cannot drift.
 */

const nullableString = z.string().nullish();
const stringMap = z.record(z.string(), z.string());

export const inlineVolumeSchema = z.object({
  volume_type: z.literal('inline'),
  contents: z.string(),
  relative_path: nullableString,
}) satisfies z.ZodType<InlineVolume>;

export const zipUrlVolumeSchema = z.object({
  volume_type: z.literal('zip_url'),
  contents: z.string(),
  relative_path: nullableString,
}) satisfies z.ZodType<ZipUrlVolume>;

export const singleFileVolumeSchema = z.object({
  volume_type: z.literal('single_file'),
  url: z.string(),
  relative_path: z.string(),
}) satisfies z.ZodType<SingleFileVolume>;

export const huggingfaceVolumeSchema = z.object({
  volume_type: z.literal('huggingface_volume'),
  repo_id: z.string(),
  repo_type: nullableString,
  revision: nullableString,
  relative_path: nullableString,
  allow_patterns: z.union([z.string(), z.array(z.string())]).nullish(),
  token: nullableString,
}) satisfies z.ZodType<HuggingfaceVolume>;

export const singleVolumeSchema = z.discriminatedUnion('volume_type', [
  inlineVolumeSchema,
  zipUrlVolumeSchema,
  singleFileVolumeSchema,
  huggingfaceVolumeSchema,
]) satisfies z.ZodType<SingleVolume>;

export const multiVolumeSchema = z.object({
  volume_type: z.literal('multi_volume'),
  volumes: z.array(singleVolumeSchema),
}) satisfies z.ZodType<MultiVolume>;

export const volumeSchema = z.discriminatedUnion('volume_type', [
  inlineVolumeSchema,
  zipUrlVolumeSchema,
  singleFileVolumeSchema,
  huggingfaceVolumeSchema,
  multiVolumeSchema,
]) satisfies z.ZodType<Volume>;

export const zipAndHttpPostUploadSchema = z.object({
  output_upload_type: z.literal('zip_and_http_post'),
  url: z.string(),
  form_fields: stringMap.nullish(),
}) satisfies z.ZodType<ZipAndHttpPostUpload>;

export const zipAndHttpPutUploadSchema = z.object({
  output_upload_type: z.literal('zip_and_http_put'),
  url: z.string(),
}) satisfies z.ZodType<ZipAndHttpPutUpload>;

export const singleFilePostUploadSchema = z.object({
  output_upload_type: z.literal('single_file_post'),
  url: z.string(),
  form_fields: stringMap.nullish(),
  relative_path: z.string(),
  signed_headers: stringMap.nullish(),
}) satisfies z.ZodType<SingleFilePostUpload>;

export const singleFilePutUploadSchema = z.object({
  output_upload_type: z.literal('single_file_put'),
  url: z.string(),
  relative_path: z.string(),
  signed_headers: stringMap.nullish(),
}) satisfies z.ZodType<SingleFilePutUpload>;

export const multiUploadSchema = z.object({
  output_upload_type: z.literal('multi_upload'),
  uploads: z.array(z.discriminatedUnion('output_upload_type', [singleFilePostUploadSchema, singleFilePutUploadSchema])),
  system_output: z.discriminatedUnion('output_upload_type', [zipAndHttpPostUploadSchema, zipAndHttpPutUploadSchema]).nullish(),
}) satisfies z.ZodType<MultiUpload>;

export const outputUploadSchema = z.discriminatedUnion('output_upload_type', [
  singleFilePostUploadSchema,
  singleFilePutUploadSchema,
  zipAndHttpPostUploadSchema,
  zipAndHttpPutUploadSchema,
  multiUploadSchema,
]) satisfies z.ZodType<OutputUpload>;

export const dockerRunOptionsPresetSchema = z.enum(['nvidia_all', 'none']) satisfies z.ZodType<DockerRunOptionsPreset>;

/** Any JSON value (pydantic `JsonValue`). */
export const jsonValueSchema = z.json();
/** `FailureContext = dict[str, JsonValue]`: free-form details attached to a failure. */
export const failureContextSchema = z.record(z.string(), jsonValueSchema);

/** Executor class id. ComputeHorde has a closed enum; horde's classes are plugins, so any id parses. */
export const executorClassSchema = z.string().min(1);

/** `StreamingDetails` (compute_horde_core/streaming.py). */
export const streamingDetailsSchema = z.object({
  public_key: z.string(),
  executor_ip: nullableString,
});
