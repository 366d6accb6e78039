import { blake2AsU8a } from '@polkadot/util-crypto';
import type { OutputUpload, SingleFileUpload, SingleVolume, Volume, ZipAndHttpPostUpload, ZipAndHttpPutUpload } from '../contracts/job.js';
import { HordeError } from '../errors.js';
import type { Hotkey } from '../keys/index.js';
import { cryptoReady, verifySignatureSync } from '../keys/verify.js';
import type { SdkSignature, SignatureScope, V0JobCheated, V2JobRequest } from './facilitator-messages.js';
import { pydanticJson, pythonJsonDumps, type JsonValue } from './python-json.js';

/**
 * Request signatures of the ComputeHorde SDK and facilitator (compute_horde_core/signature.py).
 *
 * digest = blake2b-512( timestamp_ns as 8 bytes big-endian ‖ payload bytes )
 * where payload bytes are the payload itself when it is bytes, else
 * `json.dumps(payload, sort_keys=True)` in UTF-8. The hotkey signs the 64-byte digest (sr25519);
 * the signature travels base64 in a `Signature` object or the X-CH-* headers.
 *
 * Job creation signs `SignedFields.model_dump_json()` — a *string* — so that JSON text is
 * JSON-encoded a second time before hashing ("double encoding"). A cheat report signs
 * `json.dumps(body, sort_keys=True)`, also a string, so it is double-encoded the same way.
 */

export type { SdkSignature, SignatureScope } from './facilitator-messages.js';

export const SIGNATURE_TYPE_BITTENSOR = 'bittensor';

const encoder = new TextEncoder();

/** The 64-byte digest the signer signs. */
export function signatureDigest(payload: Uint8Array | JsonValue, timestampNs: bigint): Uint8Array {
  if (timestampNs < 0n || timestampNs >= 2n ** 64n) throw new RangeError('timestamp_ns must fit in 8 unsigned bytes');
  const body = payload instanceof Uint8Array ? payload : encoder.encode(pythonJsonDumps(payload, { sortKeys: true }));
  const data = new Uint8Array(8 + body.length);
  new DataView(data.buffer).setBigUint64(0, timestampNs, false);
  data.set(body, 8);
  return blake2AsU8a(data, 512);
}

/** Nanoseconds since the epoch (microsecond resolution), like Python's `time.time_ns()`. */
export function nowNs(): bigint {
  return BigInt(Math.trunc((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}

/** Signs `payload` as the SDK's `Signer.sign` does. */
export function signSdkPayload(
  hotkey: Hotkey,
  payload: Uint8Array | JsonValue,
  opts: { timestampNs?: bigint; scope?: SignatureScope } = {},
): SdkSignature {
  const timestampNs = opts.timestampNs ?? nowNs();
  const raw = hotkey.pair.sign(signatureDigest(payload, timestampNs));
  return {
    signature_type: SIGNATURE_TYPE_BITTENSOR,
    signatory: hotkey.ss58,
    timestamp_ns: timestampNs,
    signature: Buffer.from(raw).toString('base64'),
    signature_scope: opts.scope ?? 'SignedFields',
  };
}

export type SdkSignatureErrorCode = 'SIGNATURE_NOT_FOUND' | 'INVALID_SIGNATURE' | 'SIGNATURE_TOO_OLD' | 'UNSUPPORTED_SIGNATURE_TYPE';

export class SdkSignatureError extends HordeError {
  declare readonly code: SdkSignatureErrorCode;

  constructor(code: SdkSignatureErrorCode, message: string) {
    super(code, message);
  }
}

export type SdkSignatureVerification = { ok: true; signatory: string } | { ok: false; error: SdkSignatureError };

/** `Verifier.verify`: the signature over `payload`, and (optionally) that it is newer than a time. */
export async function verifySdkSignature(
  payload: Uint8Array | JsonValue,
  signature: SdkSignature,
  opts: { newerThanNs?: bigint } = {},
): Promise<SdkSignatureVerification> {
  const fail = (code: SdkSignatureErrorCode, message: string): SdkSignatureVerification => ({
    ok: false,
    error: new SdkSignatureError(code, message),
  });
  if (signature.signature_type !== SIGNATURE_TYPE_BITTENSOR) {
    return fail(
      'UNSUPPORTED_SIGNATURE_TYPE',
      `signature type ${JSON.stringify(signature.signature_type)} is not supported (only "bittensor")`,
    );
  }
  await cryptoReady();
  const sig = Buffer.from(signature.signature, 'base64');
  if (!verifySignatureSync(signatureDigest(payload, signature.timestamp_ns), sig, signature.signatory)) {
    return fail('INVALID_SIGNATURE', `Signature is invalid (signatory ${signature.signatory})`);
  }
  if (opts.newerThanNs !== undefined && signature.timestamp_ns < opts.newerThanNs) {
    return fail('SIGNATURE_TOO_OLD', 'Signature is too old');
  }
  return { ok: true, signatory: signature.signatory };
}

// --- header transport ---------------------------------------------------------------------------

export const SIGNATURE_HEADER_PREFIX = 'X-CH-';

/** `signature_to_headers`. */
export function signatureToHeaders(signature: SdkSignature, prefix = SIGNATURE_HEADER_PREFIX): Record<string, string> {
  return {
    [`${prefix}Signature-Type`]: signature.signature_type,
    [`${prefix}Signatory`]: signature.signatory,
    [`${prefix}Timestamp-NS`]: signature.timestamp_ns.toString(),
    [`${prefix}Signature`]: signature.signature,
    [`${prefix}Signature-Scope`]: signature.signature_scope,
  };
}

type HeaderBag = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

function header(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers as Record<string, string | readonly string[] | undefined>)) {
    if (key.toLowerCase() === wanted) return typeof value === 'string' ? value : value?.[0];
  }
  return undefined;
}

/** `signature_from_headers`: header names are matched case-insensitively. */
export function signatureFromHeaders(
  headers: HeaderBag,
  prefix = SIGNATURE_HEADER_PREFIX,
): { ok: true; signature: SdkSignature } | { ok: false; error: SdkSignatureError } {
  const type = header(headers, `${prefix}Signature-Type`);
  const signatory = header(headers, `${prefix}Signatory`);
  const ts = header(headers, `${prefix}Timestamp-NS`);
  const sig = header(headers, `${prefix}Signature`);
  const scope = header(headers, `${prefix}Signature-Scope`) ?? 'SignedFields';
  const notFound = (why: string) => ({
    ok: false as const,
    error: new SdkSignatureError('SIGNATURE_NOT_FOUND', `Signature not found in headers: ${why}`),
  });
  if (type === undefined || signatory === undefined || ts === undefined || sig === undefined) {
    return notFound(`need ${prefix}Signature-Type, ${prefix}Signatory, ${prefix}Timestamp-NS and ${prefix}Signature`);
  }
  if (!/^\d{1,20}$/.test(ts.trim()) || BigInt(ts.trim()) >= 2n ** 64n) return notFound(`${prefix}Timestamp-NS is not an integer`);
  if (scope !== 'SignedFields' && scope !== 'FullRequest')
    return notFound(`${prefix}Signature-Scope ${JSON.stringify(scope)} is not SignedFields or FullRequest`);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(sig.trim())) return notFound(`${prefix}Signature is not base64`);
  return {
    ok: true,
    signature: { signature_type: type, signatory, timestamp_ns: BigInt(ts.trim()), signature: sig.trim(), signature_scope: scope },
  };
}

// --- job creation: SignedFields ------------------------------------------------------------------

/** `SignedFields`: what of a job the end user's signature covers. Key order is the model's. */
export interface SignedFields {
  executor_class: string;
  docker_image: string;
  args: string[];
  env: Record<string, string>;
  use_gpu: boolean;
  artifacts_dir: string;
  on_trusted_miner: boolean;
  download_time_limit: number;
  execution_time_limit: number;
  upload_time_limit: number;
  streaming_start_time_limit: number;
  streaming_details: { public_key: string; executor_ip: string | null } | null;
  volumes: JsonValue[];
  uploads: JsonValue[];
}

function str(value: unknown): string {
  // Python's str() of what json.loads can return.
  if (value === undefined || value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function streamingDetails(value: unknown): SignedFields['streaming_details'] {
  const v = value as { public_key: string; executor_ip?: string | null };
  return { public_key: v.public_key, executor_ip: v.executor_ip ?? null };
}

/**
 * `SignedFields.from_facilitator_sdk_json`: the fields as the facilitator reads them from the
 * SDK's request body (volumes and uploads as they are in the body).
 */
export function signedFieldsFromSdkJson(body: Readonly<Record<string, unknown>>): SignedFields {
  const get = <T>(key: string, fallback: T): T => (key in body ? (body[key] as T) : fallback);
  return {
    executor_class: str(body.executor_class),
    docker_image: 'docker_image' in body ? str(body.docker_image) : '',
    args: get<string[]>('args', []),
    env: get<Record<string, string>>('env', {}),
    use_gpu: get<boolean>('use_gpu', false),
    artifacts_dir: (body.artifacts_dir as string | null | undefined) || '',
    on_trusted_miner: get<boolean>('on_trusted_miner', false),
    download_time_limit: get<number>('download_time_limit', 0),
    execution_time_limit: get<number>('execution_time_limit', 0),
    upload_time_limit: get<number>('upload_time_limit', 0),
    streaming_start_time_limit: get<number>('streaming_start_time_limit', 0),
    streaming_details: 'streaming_details' in body ? streamingDetails(body.streaming_details) : null,
    volumes: get<JsonValue[]>('volumes', []),
    uploads: get<JsonValue[]>('uploads', []),
  };
}

/** pydantic `model_dump()` of a single volume: every declared field, in declaration order. */
export function volumeModelDump(volume: SingleVolume): JsonValue {
  switch (volume.volume_type) {
    case 'inline':
    case 'zip_url':
      return { volume_type: volume.volume_type, contents: volume.contents, relative_path: volume.relative_path ?? null };
    case 'single_file':
      return { volume_type: 'single_file', url: volume.url, relative_path: volume.relative_path };
    case 'huggingface_volume':
      return {
        volume_type: 'huggingface_volume',
        repo_id: volume.repo_id,
        repo_type: volume.repo_type ?? null,
        revision: volume.revision ?? null,
        relative_path: volume.relative_path ?? null,
        allow_patterns: volume.allow_patterns ?? null,
        token: volume.token ?? null,
      };
  }
}

/** pydantic `model_dump()` of an output upload: every declared field, in declaration order. */
export function uploadModelDump(upload: SingleFileUpload | ZipAndHttpPostUpload | ZipAndHttpPutUpload): JsonValue {
  switch (upload.output_upload_type) {
    case 'single_file_post':
      return {
        output_upload_type: 'single_file_post',
        url: upload.url,
        form_fields: upload.form_fields ?? null,
        relative_path: upload.relative_path,
        signed_headers: upload.signed_headers ?? null,
      };
    case 'single_file_put':
      return {
        output_upload_type: 'single_file_put',
        url: upload.url,
        relative_path: upload.relative_path,
        signed_headers: upload.signed_headers ?? null,
      };
    case 'zip_and_http_post':
      return { output_upload_type: 'zip_and_http_post', url: upload.url, form_fields: upload.form_fields ?? null };
    case 'zip_and_http_put':
      return { output_upload_type: 'zip_and_http_put', url: upload.url };
  }
}

function volumesOf(volume: Volume | null | undefined): JsonValue[] {
  if (!volume) return [];
  return volume.volume_type === 'multi_volume' ? volume.volumes.map(volumeModelDump) : [volumeModelDump(volume)];
}

function uploadsOf(upload: OutputUpload | null | undefined): JsonValue[] {
  if (!upload) return [];
  // As the original: a multi upload contributes its uploads; its system_output is not signed.
  return upload.output_upload_type === 'multi_upload' ? upload.uploads.map(uploadModelDump) : [uploadModelDump(upload)];
}

/** `V2JobRequest.get_signed_fields()`: the validator's view of what the user signed. */
export function signedFieldsFromJobRequest(request: V2JobRequest): SignedFields {
  return {
    executor_class: request.executor_class,
    docker_image: request.docker_image,
    args: request.args,
    env: request.env,
    use_gpu: request.use_gpu,
    artifacts_dir: request.artifacts_dir || '',
    on_trusted_miner: request.on_trusted_miner,
    download_time_limit: request.download_time_limit,
    execution_time_limit: request.execution_time_limit,
    upload_time_limit: request.upload_time_limit,
    streaming_start_time_limit: request.streaming_start_time_limit,
    streaming_details: request.streaming_details ? streamingDetails(request.streaming_details) : null,
    volumes: volumesOf(request.volume),
    uploads: uploadsOf(request.output_upload),
  };
}

/** `SignedFields.model_dump_json()`: the string that is signed (and JSON-encoded again). */
export function signedFieldsJson(fields: SignedFields): string {
  const ordered: JsonValue = {
    executor_class: fields.executor_class,
    docker_image: fields.docker_image,
    args: fields.args,
    env: fields.env,
    use_gpu: fields.use_gpu,
    artifacts_dir: fields.artifacts_dir,
    on_trusted_miner: fields.on_trusted_miner,
    download_time_limit: fields.download_time_limit,
    execution_time_limit: fields.execution_time_limit,
    upload_time_limit: fields.upload_time_limit,
    streaming_start_time_limit: fields.streaming_start_time_limit,
    streaming_details: fields.streaming_details,
    volumes: fields.volumes,
    uploads: fields.uploads,
  };
  return pydanticJson(ordered);
}

/** SDK side of `create_job`: the signature (and headers) for a job-creation request body. */
export function signJobCreation(hotkey: Hotkey, body: Readonly<Record<string, unknown>>, opts: { timestampNs?: bigint } = {}) {
  const signature = signSdkPayload(hotkey, signedFieldsJson(signedFieldsFromSdkJson(body)), { ...opts, scope: 'SignedFields' });
  return { signature, headers: signatureToHeaders(signature) };
}

/** Facilitator side: checks a job-creation body against its signature (scope SignedFields). */
export function verifyJobCreation(body: Readonly<Record<string, unknown>>, signature: SdkSignature, opts: { newerThanNs?: bigint } = {}) {
  return verifySdkSignature(signedFieldsJson(signedFieldsFromSdkJson(body)), signature, opts);
}

/** Validator side: checks the user signature a `V2JobRequest` carries. */
export async function verifyJobRequestSignature(request: V2JobRequest): Promise<SdkSignatureVerification> {
  if (!request.signature) return { ok: false, error: new SdkSignatureError('SIGNATURE_NOT_FOUND', 'Signature is empty') };
  return verifySdkSignature(signedFieldsJson(signedFieldsFromJobRequest(request)), request.signature);
}

// --- cheat reports (scope FullRequest) ------------------------------------------------------------

/** SDK side of `report_cheated_job`. */
export function signCheatReport(
  hotkey: Hotkey,
  body: { job_uuid: string; trusted_job_uuid: string; details: JsonValue },
  opts: { timestampNs?: bigint } = {},
) {
  const signature = signSdkPayload(hotkey, pythonJsonDumps(body, { sortKeys: true }), { ...opts, scope: 'FullRequest' });
  return { signature, headers: signatureToHeaders(signature) };
}

/**
 * Checks a cheat report's signature. The SDK and facilitator hash the double-encoded body; the
 * ComputeHorde validator (`V0JobCheated.get_signed_payload`) hashes the dict once. Both forms are
 * accepted so reports from either kind of signer verify.
 */
export async function verifyCheatReport(report: Pick<V0JobCheated, 'job_uuid' | 'trusted_job_uuid' | 'details'>, signature: SdkSignature) {
  const body = { job_uuid: report.job_uuid, trusted_job_uuid: report.trusted_job_uuid, details: report.details as JsonValue };
  const sdkForm = await verifySdkSignature(pythonJsonDumps(body, { sortKeys: true }), signature);
  if (sdkForm.ok || sdkForm.error.code !== 'INVALID_SIGNATURE') return sdkForm;
  return verifySdkSignature(body, signature);
}
