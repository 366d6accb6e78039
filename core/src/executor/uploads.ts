/**
 * Sends the contents of a job's `/output` directory where the job asked (ComputeHorde v0.1
 * `output_upload_type`):
 *   zip_and_http_post  the directory as `output.zip`, multipart POST (form_fields + `file`)
 *   zip_and_http_put   the same zip as the PUT body (e.g. a presigned S3 URL)
 *   single_file_post   one file, multipart POST, optional signed_headers
 *   single_file_put    one file as the PUT body, optional signed_headers
 *   multi_upload       several single-file uploads plus an optional `system_output` zip of the rest
 *
 * The result is `upload_results`: key → JSON string `{headers, body}` of the server's answer,
 * keyed `output.zip` for a zip upload, the `relative_path` for a single file and `system_output`
 * for multi_upload's zip, as ComputeHorde does.
 *
 * Limits (ComputeHorde's): zip ≤ `maxBytes` (2 GiB), ≤ 1000 entries, 3 uploads at a time, 300 s per
 * request, 3 attempts with the delay doubling (network errors, 408, 429 and 5xx; another 4xx will
 * not heal), response bodies ≤ 10 MiB. Symbolic links in the output are never followed: a job
 * could otherwise point one at a file of the executor's host and have it uploaded.
 */
import { createWriteStream, openAsBlob } from 'node:fs';
import { lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import pLimit from 'p-limit';
import yazl from 'yazl';
import type { Logger, OutputUpload, SingleFileUpload, ZipAndHttpPostUpload, ZipAndHttpPutUpload } from '../contracts/index.js';
import { defineError } from '../errors.js';
import { EgressRefusedError, fetchWithEgress, type EgressPolicy } from '../net/egress.js';
import { joinInside } from './paths.js';
import { withRetries } from '../time/retry.js';
import { definedFields } from '../object/defined-fields.js';
import { redactUrl } from '../net/redact-url.js';

/** The outputs could not be uploaded; the job fails with `upload_failed`. */
export class OutputUploadError extends defineError('HORDE_UPLOAD_FAILED') {}

export interface UploadOutputsOptions {
  /** Largest zip sent (ComputeHorde's `OUTPUT_ZIP_UPLOAD_MAX_SIZE_BYTES`, 2 GiB). */
  readonly maxBytes: number;
  /** Where uploads may connect (every redirect hop is checked); see egress.ts. */
  readonly egress: EgressPolicy;
  readonly signal?: AbortSignal;
  readonly logger: Logger;
  /** Entries (files and directories) a zip may hold; default 1000. */
  readonly maxFiles?: number;
  /** Uploads in flight at once; default 3. */
  readonly concurrency?: number;
  /** Per-request time limit; default 300 s. */
  readonly timeoutMs?: number;
  /** Attempts per upload (default 3) and the first retry delay (default 1 s, then ×2). */
  readonly attempts?: number;
  readonly retryDelayMs?: number;
  /** Largest response body kept; default 10 MiB. */
  readonly maxResponseBytes?: number;
}

export const UPLOAD_DEFAULTS = {
  maxFiles: 1000,
  concurrency: 3,
  timeoutMs: 300_000,
  attempts: 3,
  retryDelayMs: 1000,
  maxResponseBytes: 10 * 1024 * 1024,
} as const;

type Settings = Required<Omit<UploadOutputsOptions, 'signal'>> & { signal?: AbortSignal };

/** The server's answer to one upload, as it goes (JSON-encoded) into `upload_results`. */
interface UploadResponse {
  headers: Record<string, string>;
  body: string;
}

export async function uploadOutputs(upload: OutputUpload, outputDir: string, opts: UploadOutputsOptions): Promise<Record<string, string>> {
  const settings: Settings = { ...UPLOAD_DEFAULTS, ...opts };
  const limit = pLimit(settings.concurrency);
  const scratch = await mkdtemp(join(tmpdir(), 'horde-upload-'));
  const started = Date.now();
  try {
    const responses = await runUpload(upload, outputDir, scratch, settings, limit);
    const results: Record<string, string> = {};
    for (const [key, response] of responses) results[key] = JSON.stringify(response);
    settings.logger.info(
      { uploadType: upload.output_upload_type, keys: Object.keys(results), ms: Date.now() - started },
      'outputs uploaded',
    );
    return results;
  } catch (error) {
    if (error instanceof OutputUploadError) throw error;
    if (settings.signal?.aborted) throw new OutputUploadError('The output upload was aborted.', { cause: error });
    throw new OutputUploadError(`Output upload failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function runUpload(
  upload: OutputUpload,
  outputDir: string,
  scratch: string,
  settings: Settings,
  limit: ReturnType<typeof pLimit>,
): Promise<Array<[string, UploadResponse]>> {
  switch (upload.output_upload_type) {
    case 'zip_and_http_post':
    case 'zip_and_http_put':
      return [['output.zip', await limit(() => uploadZip(upload, outputDir, new Set(), scratch, settings))]];
    case 'single_file_post':
    case 'single_file_put':
      return [[upload.relative_path, await limit(() => uploadSingle(upload, outputDir, settings))]];
    case 'multi_upload': {
      // Check every file first, so a typo in the last path fails the job before anything is sent.
      for (const single of upload.uploads) await resolveOutputFile(outputDir, single.relative_path);
      const tasks: Array<Promise<[string, UploadResponse]>> = upload.uploads.map((single) =>
        limit(async () => [single.relative_path, await uploadSingle(single, outputDir, settings)] as [string, UploadResponse]),
      );
      const system = upload.system_output;
      if (system) {
        const exclude = new Set(upload.uploads.map((u) => normalizeRelative(u.relative_path)));
        tasks.push(
          limit(async () => ['system_output', await uploadZip(system, outputDir, exclude, scratch, settings)] as [string, UploadResponse]),
        );
      }
      return Promise.all(tasks);
    }
    default: {
      const unknown: { output_upload_type?: unknown } = upload;
      throw new OutputUploadError(`Unknown output_upload_type ${JSON.stringify(unknown.output_upload_type)}.`);
    }
  }
}

function normalizeRelative(path: string): string {
  return path
    .split(/[\\/]+/)
    .filter((p) => p !== '' && p !== '.')
    .join('/');
}

/** A job-named file in the output directory: inside it, a regular file, not a link. */
async function resolveOutputFile(outputDir: string, relativePath: string): Promise<string> {
  const path = joinInside(outputDir, relativePath);
  if (path === null || path === joinInside(outputDir, '.')) {
    throw new OutputUploadError(`relative_path "${relativePath}" does not name a file inside the output directory.`);
  }
  const stats = await lstat(path).catch(() => null);
  if (!stats) throw new OutputUploadError(`Output file not found: ${relativePath}`);
  if (stats.isSymbolicLink()) throw new OutputUploadError(`Output file ${relativePath} is a symbolic link; links are not uploaded.`);
  if (!stats.isFile()) throw new OutputUploadError(`Output path ${relativePath} is not a regular file.`);
  return path;
}

async function uploadSingle(upload: SingleFileUpload, outputDir: string, settings: Settings): Promise<UploadResponse> {
  const path = await resolveOutputFile(outputDir, upload.relative_path);
  const headers = upload.signed_headers ?? {};
  if (upload.output_upload_type === 'single_file_put') return send('PUT', upload.url, path, basename(path), null, headers, settings);
  return send('POST', upload.url, path, basename(path), upload.form_fields ?? {}, headers, settings);
}

async function uploadZip(
  upload: ZipAndHttpPostUpload | ZipAndHttpPutUpload,
  outputDir: string,
  exclude: ReadonlySet<string>,
  scratch: string,
  settings: Settings,
): Promise<UploadResponse> {
  const zipPath = await zipDirectory(
    outputDir,
    exclude,
    join(scratch, `output-${Date.now()}-${Math.random().toString(36).slice(2)}.zip`),
    settings,
  );
  if (upload.output_upload_type === 'zip_and_http_put') return send('PUT', upload.url, zipPath, 'output.zip', null, {}, settings);
  return send('POST', upload.url, zipPath, 'output.zip', upload.form_fields ?? {}, {}, settings);
}

interface ZipItem {
  readonly name: string;
  readonly path: string;
  readonly directory: boolean;
  readonly mode: number;
}

/**
 * Zips `dir` (entries stored, not deflated, like ComputeHorde's zipfile default: outputs are often
 * already compressed and the executor's CPU is the job's). Links and special files are left out.
 */
async function zipDirectory(dir: string, exclude: ReadonlySet<string>, zipPath: string, settings: Settings): Promise<string> {
  const items: ZipItem[] = [];
  let totalSize = 0;
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch((error: unknown) => {
    throw new OutputUploadError(`Cannot read the output directory: ${(error as Error).message}`, { cause: error });
  });
  for (const entry of entries) {
    const path = join(entry.parentPath, entry.name);
    const name = relative(dir, path).split(sep).join('/');
    if (exclude.has(name)) continue;
    if (entry.isSymbolicLink()) {
      settings.logger.warn({ path: name }, 'symbolic link in the job output left out of the zip');
      continue;
    }
    if (!entry.isFile() && !entry.isDirectory()) continue;
    const stats = await lstat(path);
    items.push({ name, path, directory: entry.isDirectory(), mode: stats.mode });
    totalSize += entry.isFile() ? stats.size : 0;
  }
  if (items.length > settings.maxFiles) {
    throw new OutputUploadError(`The output has ${items.length} entries, more than the limit of ${settings.maxFiles}.`);
  }
  // Stored entries: the zip is the files plus small headers, so an oversized output is refused
  // before a byte is written.
  if (totalSize > settings.maxBytes) {
    throw new OutputUploadError(`The output is ${totalSize} bytes, more than the ${settings.maxBytes}-byte limit for the zip.`);
  }
  items.sort((a, b) => a.name.localeCompare(b.name));
  const zip = new yazl.ZipFile();
  for (const item of items) {
    if (item.directory) zip.addEmptyDirectory(item.name, { mode: item.mode });
    else zip.addFile(item.path, item.name, { compress: false, mode: item.mode });
  }
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(zipPath));
  const size = (await lstat(zipPath)).size;
  if (size > settings.maxBytes)
    throw new OutputUploadError(`The output zip is ${size} bytes, more than the ${settings.maxBytes}-byte limit.`);
  return zipPath;
}

/** An upload failure another attempt may fix. */
class TransientUploadError extends Error {}

/**
 * One upload with retries: PUT sends the file as the body (with its Content-Length, as presigned
 * S3 URLs require), POST sends multipart form data with the form fields and the file as `file`.
 */
async function send(
  method: 'PUT' | 'POST',
  url: string,
  filePath: string,
  fileName: string,
  formFields: Record<string, string> | null,
  headers: Record<string, string>,
  settings: Settings,
): Promise<UploadResponse> {
  const target = redactUrl(url);
  return withRetries(
    async () => {
      // A file-backed Blob: fetch streams it from disk and knows its length.
      const file = await openAsBlob(filePath);
      let body: Blob | FormData = file;
      if (method === 'POST') {
        const form = new FormData();
        for (const [key, value] of Object.entries(formFields ?? {})) form.append(key, value);
        form.append('file', file, fileName);
        body = form;
      }
      const timeout = AbortSignal.timeout(settings.timeoutMs);
      const signal = settings.signal ? AbortSignal.any([settings.signal, timeout]) : timeout;
      let response: Response;
      try {
        response = await fetchWithEgress(settings.egress, url, { method, body, headers, signal });
      } catch (error) {
        if (settings.signal?.aborted) throw error;
        if (error instanceof EgressRefusedError) throw new OutputUploadError(`${method} ${target}: ${error.message}`, { cause: error });
        const reason = timeout.aborted ? `timed out after ${settings.timeoutMs} ms` : (error as Error).message;
        throw new TransientUploadError(`${method} ${target} failed: ${reason}`, { cause: error });
      }
      if (!response.ok) {
        const detail = (await readCapped(response, 2000).catch(() => '')).slice(0, 500);
        const message = `${method} ${target} answered HTTP ${response.status} ${response.statusText}${detail ? `: ${detail}` : ''}`;
        if (response.status === 408 || response.status === 429 || response.status >= 500) throw new TransientUploadError(message);
        throw new OutputUploadError(message);
      }
      const responseHeaders: Record<string, string> = {};
      response.headers.forEach((value, key) => (responseHeaders[key] = value));
      return { headers: responseHeaders, body: await readCapped(response, settings.maxResponseBytes) };
    },
    {
      attempts: settings.attempts,
      initialDelayMs: settings.retryDelayMs,
      ...definedFields({ signal: settings.signal }),
      isRetryable: (error) => error instanceof TransientUploadError,
      onRetry: (error, attempt, delayMs) =>
        settings.logger.warn({ url: target, attempt, delayMs, err: (error as Error).message }, 'output upload failed, retrying'),
    },
  ).catch((error: unknown) => {
    if (error instanceof TransientUploadError) throw new OutputUploadError(error.message, { cause: error });
    throw error;
  });
}

/** The response body as text, refusing more than `maxBytes` (by Content-Length, then by count). */
async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const length = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(length) && length > maxBytes) {
    await response.body?.cancel();
    throw new OutputUploadError(`The upload response is ${length} bytes, more than the ${maxBytes}-byte limit.`);
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new OutputUploadError(`The upload response exceeds the ${maxBytes}-byte limit.`);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks).toString('utf8');
}
