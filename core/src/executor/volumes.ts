/**
 * Fetches a job's input volume into the directory mounted at `/volume`.
 *
 * Volume kinds (ComputeHorde v0.1 `volume_type`): `inline` (base64 zip in the message), `zip_url`,
 * `single_file`, `huggingface_volume` (through the Hub's HTTP API) and `multi_volume` (several of
 * those into one directory). Everything here treats the volume as hostile input:
 *  - `maxBytes` caps the bytes written into the directory, across all sub-volumes; a download's
 *    `Content-Length` is checked before the body is read, and bytes are counted while streaming;
 *  - zip entries that would land outside the target (`../`, absolute paths), symlinks and
 *    encrypted entries are rejected; zip bombs are stopped by the declared and the actual
 *    uncompressed size and by an entry-count cap. No header is trusted: the executor inflates
 *    each entry itself and counts the bytes as they are written, so an entry that holds more
 *    than it declares fails the volume (yauzl's own size check threw past every handler);
 *  - paths given by the job (`relative_path`) and by the Hub (file names) must stay inside the
 *    target directory;
 *  - transient HTTP failures (network errors, 408, 429, 5xx) are retried a bounded number of times,
 *    resuming with a Range request where the server allows it.
 */
import { constants as fsConstants, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw } from 'node:zlib';
import pLimit from 'p-limit';
import yauzl from 'yauzl';
import { z } from 'zod';
import type { HuggingfaceVolume, Logger, SingleVolume, Volume } from '../contracts/index.js';
import { defineError } from '../errors.js';
import { EgressRefusedError, fetchWithEgress, type EgressPolicy } from '../net/egress.js';
import { joinInside } from './paths.js';
import { withRetries } from '../time/retry.js';
import { definedFields } from '../object/defined-fields.js';
import { redactUrl } from '../net/redact-url.js';

/** The volume could not be fetched or unpacked; the job fails with `download_failed`. */
export class VolumeDownloadError extends defineError('HORDE_DOWNLOAD_FAILED') {}

export interface DownloadVolumeOptions {
  /** Cap on the bytes written into `targetDir` (ComputeHorde: 2 GiB). */
  readonly maxBytes: number;
  /** Where downloads may connect (every redirect hop is checked); see egress.ts. */
  readonly egress: EgressPolicy;
  readonly signal?: AbortSignal;
  /** Hub base URL; default `https://huggingface.co`. Tests point it at a local server. */
  readonly huggingfaceEndpoint?: string;
  /** Used when a `huggingface_volume` brings no token of its own (ComputeHorde: `HF_ACCESS_TOKEN`). */
  readonly huggingfaceToken?: string;
  readonly logger: Logger;
  /** Cap on zip entries per archive (default 100,000). */
  readonly maxZipEntries?: number;
  /** HTTP attempts per file (default 3) and the first retry delay (default 1 s, then ×2). */
  readonly attempts?: number;
  readonly retryDelayMs?: number;
  /** Parallel file downloads of a Hugging Face volume (default 3). */
  readonly concurrency?: number;
}

const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';
const DEFAULT_MAX_ZIP_ENTRIES = 100_000;

/** Bytes left to write; shared by every part of one volume. */
class ByteBudget {
  private used = 0;
  constructor(
    readonly limit: number,
    private readonly what: string,
  ) {}
  get remaining(): number {
    return this.limit - this.used;
  }
  take(bytes: number): void {
    this.used += bytes;
    if (this.used > this.limit) throw new VolumeDownloadError(`${this.what} exceeds the limit of ${this.limit} bytes.`);
  }
  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}

interface Context {
  readonly opts: DownloadVolumeOptions;
  readonly budget: ByteBudget;
}

/** Downloads `volume` into `targetDir` (created if missing). Throws `VolumeDownloadError`. */
export async function downloadVolume(volume: Volume, targetDir: string, opts: DownloadVolumeOptions): Promise<void> {
  await mkdir(targetDir, { recursive: true });
  const ctx: Context = { opts, budget: new ByteBudget(opts.maxBytes, 'The volume') };
  const started = Date.now();
  try {
    if (volume.volume_type === 'multi_volume') {
      // In order: a later sub-volume may overwrite a file of an earlier one, as in ComputeHorde.
      for (const part of volume.volumes) await downloadSingle(part, targetDir, ctx);
    } else {
      await downloadSingle(volume, targetDir, ctx);
    }
  } catch (error) {
    throw asDownloadError(error, opts.signal);
  }
  opts.logger.info(
    { volumeType: volume.volume_type, bytes: opts.maxBytes - ctx.budget.remaining, ms: Date.now() - started },
    'volume downloaded',
  );
}

function asDownloadError(error: unknown, signal?: AbortSignal): VolumeDownloadError {
  if (error instanceof VolumeDownloadError) return error;
  if (signal?.aborted) return new VolumeDownloadError('The volume download was aborted.', { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  return new VolumeDownloadError(`Volume download failed: ${message}`, { cause: error });
}

/** `relative_path` of a volume, resolved inside the target; `required` for single files. */
function destination(targetDir: string, relativePath: string | null | undefined): string {
  if (!relativePath) return targetDir;
  const path = joinInside(targetDir, relativePath);
  if (path === null) throw new VolumeDownloadError(`relative_path "${relativePath}" points outside the volume directory.`);
  return path;
}

async function downloadSingle(volume: SingleVolume, targetDir: string, ctx: Context): Promise<void> {
  switch (volume.volume_type) {
    case 'inline': {
      const zip = Buffer.from(volume.contents, 'base64');
      if (zip.length > ctx.opts.maxBytes) {
        throw new VolumeDownloadError(`The inline volume (${zip.length} bytes) exceeds the limit of ${ctx.opts.maxBytes} bytes.`);
      }
      const zipfile = await openZip((cb) => yauzl.fromBuffer(zip, ZIP_OPTIONS, cb));
      await extractZip(zipfile, destination(targetDir, volume.relative_path), ctx);
      return;
    }
    case 'zip_url': {
      const scratch = await mkdtemp(join(tmpdir(), 'horde-volume-'));
      try {
        const zipPath = join(scratch, 'volume.zip');
        // The archive itself may be as large as the whole volume; what it unpacks to is counted
        // against the volume's budget.
        await downloadFile(volume.contents, zipPath, new ByteBudget(ctx.opts.maxBytes, 'The zip archive'), {}, ctx);
        const zipfile = await openZip((cb) => yauzl.open(zipPath, ZIP_OPTIONS, cb));
        await extractZip(zipfile, destination(targetDir, volume.relative_path), ctx);
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
      return;
    }
    case 'single_file': {
      const path = destination(targetDir, volume.relative_path);
      if (path === targetDir) throw new VolumeDownloadError('A single_file volume needs a relative_path naming the file.');
      await mkdir(dirname(path), { recursive: true });
      await downloadFile(volume.url, path, ctx.budget, {}, ctx);
      return;
    }
    case 'huggingface_volume':
      await downloadHuggingface(volume, destination(targetDir, volume.relative_path), ctx);
      return;
    default: {
      const unknown: { volume_type?: unknown } = volume;
      throw new VolumeDownloadError(`Unknown volume_type ${JSON.stringify(unknown.volume_type)}.`);
    }
  }
}

// ---------------------------------------------------------------- HTTP

/** An HTTP failure that another attempt may fix (network error, 408, 429, 5xx). */
class TransientHttpError extends Error {}

function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Counts bytes into the budget and fails the stream when it runs out. */
function counter(budget: ByteBudget, onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      try {
        budget.take(chunk.length);
        onBytes(chunk.length);
        callback(null, chunk);
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}

/**
 * GETs `url` into `path`, counting into `budget`. Retries transient failures; a retry after a
 * partial body asks for the rest with `Range` and starts over if the server ignores it.
 */
async function downloadFile(url: string, path: string, budget: ByteBudget, headers: Record<string, string>, ctx: Context): Promise<void> {
  const { signal, logger } = ctx.opts;
  let received = 0;
  const restart = async () => {
    budget.give(received);
    received = 0;
    await truncate(path, 0).catch(() => {});
  };
  await withRetries(
    async () => {
      const rangeHeaders: Record<string, string> = received > 0 ? { Range: `bytes=${received}-` } : {};
      let response: Response;
      try {
        response = await fetchWithEgress(ctx.opts.egress, url, { headers: { ...headers, ...rangeHeaders }, signal: signal ?? null });
      } catch (error) {
        if (signal?.aborted) throw error;
        if (error instanceof EgressRefusedError) throw new VolumeDownloadError(`GET ${redactUrl(url)}: ${error.message}`, { cause: error });
        throw new TransientHttpError(`GET ${redactUrl(url)} failed: ${(error as Error).message}`, { cause: error });
      }
      if (received > 0 && response.status !== 206) {
        // The server cannot resume: start over (416, or a full 200 body).
        await response.body?.cancel();
        await restart();
        throw new TransientHttpError(`GET ${redactUrl(url)}: the server did not resume (HTTP ${response.status}); starting over`);
      }
      if (!response.ok) {
        await response.body?.cancel();
        const message = `GET ${redactUrl(url)} answered HTTP ${response.status} ${response.statusText}`;
        if (retryable(response.status)) throw new TransientHttpError(message);
        throw new VolumeDownloadError(`${message}.`);
      }
      const length = Number(response.headers.get('content-length') ?? NaN);
      if (Number.isFinite(length) && length > budget.remaining) {
        await response.body?.cancel();
        throw new VolumeDownloadError(
          `${redactUrl(url)} is ${length} bytes, more than the ${budget.remaining} bytes left of the ${budget.limit}-byte limit.`,
        );
      }
      if (!response.body) {
        await writeFile(path, '');
        return;
      }
      try {
        await pipeline(
          Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>),
          counter(budget, (n) => (received += n)),
          createWriteStream(path, { flags: received > 0 ? 'a' : 'w' }),
          signal ? { signal } : {},
        );
      } catch (error) {
        if (error instanceof VolumeDownloadError || signal?.aborted) throw error;
        // Bytes counted but still buffered in the file stream when it was torn down never reached
        // the disk: resume from what the file really holds.
        const onDisk = await stat(path).then(
          (st) => st.size,
          () => 0,
        );
        budget.give(received - onDisk);
        received = onDisk;
        throw new TransientHttpError(`GET ${redactUrl(url)}: the body broke off after ${received} bytes: ${(error as Error).message}`, {
          cause: error,
        });
      }
    },
    {
      attempts: ctx.opts.attempts ?? 3,
      initialDelayMs: ctx.opts.retryDelayMs ?? 1000,
      ...definedFields({ signal }),
      isRetryable: (error) => error instanceof TransientHttpError,
      onRetry: (error, attempt, delayMs) =>
        logger.warn({ url: redactUrl(url), attempt, delayMs, err: (error as Error).message }, 'volume download failed, retrying'),
    },
  ).catch((error: unknown) => {
    if (error instanceof TransientHttpError) throw new VolumeDownloadError(error.message, { cause: error });
    throw error;
  });
}

// ---------------------------------------------------------------- zip

// validateEntrySizes is off: yauzl's check runs on a stream it keeps feeding after an error, which
// threw an uncaught exception and killed the agent. `entryBytes` below does the same job safely.
const ZIP_OPTIONS: yauzl.Options = { lazyEntries: true, autoClose: true, validateEntrySizes: false, decodeStrings: true };

const ZIP_STORED = 0;
const ZIP_DEFLATED = 8;

/**
 * Fails the entry once it yields more bytes than its header declared: what a header says is
 * checked against what is really written, never believed.
 */
function entryBytes(name: string, declared: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > declared) {
        callback(new VolumeDownloadError(`Zip entry "${name}" holds more than the ${declared} bytes its header declares.`));
        return;
      }
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      if (seen < declared)
        callback(new VolumeDownloadError(`Zip entry "${name}" holds ${seen} bytes, less than the ${declared} its header declares.`));
      else callback();
    },
  });
}

function openZip(open: (cb: (error: Error | null, zipfile: yauzl.ZipFile) => void) => void): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    open((error, zipfile) => {
      if (error) reject(new VolumeDownloadError(`The volume is not a readable zip archive: ${error.message}`, { cause: error }));
      else resolve(zipfile);
    });
  });
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/**
 * Unpacks every entry into `dest`. yauzl already refuses absolute and `..` entry names (the error
 * arrives as an 'error' event); the rest is checked here.
 */
function extractZip(zipfile: yauzl.ZipFile, dest: string, ctx: Context): Promise<void> {
  const maxEntries = ctx.opts.maxZipEntries ?? DEFAULT_MAX_ZIP_ENTRIES;
  const signal = ctx.opts.signal;
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      zipfile.close();
      const message = error instanceof Error ? error.message : String(error);
      if (/^(absolute path|invalid relative path|invalid characters in fileName)/.test(message)) {
        reject(new VolumeDownloadError(`Unsafe zip entry rejected (it would escape the volume directory): ${message}`));
      } else {
        reject(asDownloadError(error, signal));
      }
    };
    if (zipfile.entryCount > maxEntries) {
      return fail(new VolumeDownloadError(`The zip archive has ${zipfile.entryCount} entries, more than the limit of ${maxEntries}.`));
    }
    let declared = 0;
    const available = ctx.budget.remaining;
    zipfile.on('error', fail);
    zipfile.on('end', () => {
      if (!settled) {
        settled = true;
        resolve();
      }
    });
    zipfile.on('entry', (entry: yauzl.Entry) => {
      handleEntry(entry).then(() => {
        if (!settled) zipfile.readEntry();
      }, fail);
    });

    async function handleEntry(entry: yauzl.Entry): Promise<void> {
      if (signal?.aborted) throw signal.reason;
      const name = entry.fileName;
      const target = joinInside(dest, name);
      if (target === null) throw new VolumeDownloadError(`Unsafe zip entry rejected (it would escape the volume directory): ${name}`);
      const mode = (entry.externalFileAttributes >>> 16) & 0xffff;
      if ((mode & S_IFMT) === S_IFLNK)
        throw new VolumeDownloadError(`Zip entry "${name}" is a symbolic link; links are not allowed in volumes.`);
      if ((entry.generalPurposeBitFlag & 0x1) !== 0) throw new VolumeDownloadError(`Zip entry "${name}" is encrypted.`);
      if (name.endsWith('/')) {
        await mkdir(target, { recursive: true });
        return;
      }
      // Declared sizes first: a bomb is refused before a byte is inflated. `entryBytes` fails an
      // entry whose real size differs from the declared one, and the budget counts the bytes
      // actually written.
      declared += entry.uncompressedSize;
      if (declared > available) {
        throw new VolumeDownloadError(`The zip archive unpacks to more than the ${ctx.budget.limit}-byte volume limit (entry "${name}").`);
      }
      if (entry.compressionMethod !== ZIP_STORED && entry.compressionMethod !== ZIP_DEFLATED) {
        throw new VolumeDownloadError(
          `Zip entry "${name}" uses compression method ${entry.compressionMethod}; only stored and deflated entries are supported.`,
        );
      }
      await mkdir(dirname(target), { recursive: true });
      // The raw bytes only: inflating here keeps every stream of the entry inside one pipeline, so
      // any error of any of them (a lying header, corrupt deflate data) rejects it and nothing else.
      const raw = await new Promise<Readable>((res, rej) =>
        zipfile.openReadStream(
          entry,
          // decompress: false is only allowed (and only needed) for compressed entries.
          { decompress: entry.compressionMethod === ZIP_DEFLATED ? false : null, decrypt: null, start: null, end: null },
          (error, s) => (error ? rej(error) : res(s)),
        ),
      );
      // O_NOFOLLOW: never write through a link, even one that appeared by other means.
      const handle = await open(
        target,
        fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC | fsConstants.O_NOFOLLOW,
        mode & 0o111 ? 0o755 : 0o644,
      );
      const stages = entry.compressionMethod === ZIP_DEFLATED ? [raw, createInflateRaw()] : [raw];
      await pipeline(
        [...stages, entryBytes(name, entry.uncompressedSize), counter(ctx.budget, () => {}), handle.createWriteStream()],
        signal ? { signal } : {},
      );
    }
    zipfile.readEntry();
  });
}

// ---------------------------------------------------------------- Hugging Face

const hubRepoInfo = z.object({
  sha: z.string().optional(),
  siblings: z.array(z.object({ rfilename: z.string() })),
});

/** Python `fnmatch` as huggingface_hub applies it: `*` also matches `/`; `dir/` means `dir/*`. */
export function matchesPattern(path: string, pattern: string): boolean {
  const full = pattern.endsWith('/') ? `${pattern}*` : pattern;
  let regex = '';
  for (let i = 0; i < full.length; i++) {
    const c = full[i]!;
    if (c === '*') regex += '.*';
    else if (c === '?') regex += '.';
    else if (c === '[') {
      const end = full.indexOf(']', i + 2);
      if (end === -1) regex += '\\[';
      else {
        let body = full.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        regex += `[${body}]`;
        i = end;
      }
    } else regex += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${regex}$`, 's').test(path);
}

function repoPathPrefix(repoType: string): string {
  switch (repoType) {
    case 'model':
      return '';
    case 'dataset':
      return 'datasets/';
    case 'space':
      return 'spaces/';
    default:
      throw new VolumeDownloadError(`Unknown Hugging Face repo_type "${repoType}" (model, dataset or space).`);
  }
}

/**
 * The file list of `repo_id` at `revision` (`GET /api/{type}s/{repo}/revision/{rev}`), then each
 * allowed file from `/{repo}/resolve/{commit}/{path}` (datasets and spaces under `/datasets/`,
 * `/spaces/`), as `huggingface_hub.snapshot_download` does.
 */
async function downloadHuggingface(volume: HuggingfaceVolume, dest: string, ctx: Context): Promise<void> {
  const endpoint = (ctx.opts.huggingfaceEndpoint ?? DEFAULT_HF_ENDPOINT).replace(/\/+$/, '');
  const repoType = volume.repo_type ?? 'model';
  const prefix = repoPathPrefix(repoType);
  const revision = volume.revision ?? 'main';
  const token = volume.token ?? ctx.opts.huggingfaceToken;
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  const repoPath = volume.repo_id.split('/').map(encodeURIComponent).join('/');
  const infoUrl = `${endpoint}/api/${repoType}s/${repoPath}/revision/${encodeURIComponent(revision)}`;

  const info = await withRetries(
    async () => {
      let response: Response;
      try {
        response = await fetchWithEgress(ctx.opts.egress, infoUrl, { headers, signal: ctx.opts.signal ?? null });
      } catch (error) {
        if (ctx.opts.signal?.aborted) throw error;
        if (error instanceof EgressRefusedError) throw new VolumeDownloadError(`GET ${infoUrl}: ${error.message}`, { cause: error });
        throw new TransientHttpError(`GET ${infoUrl} failed: ${(error as Error).message}`, { cause: error });
      }
      if (response.status === 401 || response.status === 403 || response.status === 404) {
        await response.body?.cancel();
        throw new VolumeDownloadError(
          `Hugging Face ${repoType} "${volume.repo_id}" at revision "${revision}" was not found or needs a token (HTTP ${response.status}).`,
        );
      }
      if (!response.ok) {
        await response.body?.cancel();
        const message = `GET ${infoUrl} answered HTTP ${response.status}`;
        if (retryable(response.status)) throw new TransientHttpError(message);
        throw new VolumeDownloadError(message);
      }
      const parsed = hubRepoInfo.safeParse(await response.json().catch(() => null));
      if (!parsed.success) throw new VolumeDownloadError(`Unexpected answer from ${infoUrl}: ${parsed.error.message}`);
      return parsed.data;
    },
    {
      attempts: ctx.opts.attempts ?? 3,
      initialDelayMs: ctx.opts.retryDelayMs ?? 1000,
      ...definedFields({ signal: ctx.opts.signal }),
      isRetryable: (error) => error instanceof TransientHttpError,
    },
  ).catch((error: unknown) => {
    if (error instanceof TransientHttpError) throw new VolumeDownloadError(error.message, { cause: error });
    throw error;
  });

  const patterns = volume.allow_patterns == null ? null : [volume.allow_patterns].flat();
  const files = info.siblings.map((s) => s.rfilename).filter((name) => patterns === null || patterns.some((p) => matchesPattern(name, p)));
  // Pin the commit the listing came from, so every file is from the same snapshot.
  const commit = encodeURIComponent(info.sha ?? revision);
  const limit = pLimit(ctx.opts.concurrency ?? 3);
  ctx.opts.logger.info({ repoId: volume.repo_id, repoType, revision, files: files.length }, 'downloading Hugging Face volume');
  await Promise.all(
    files.map((name) =>
      limit(async () => {
        const target = joinInside(dest, name);
        if (target === null) throw new VolumeDownloadError(`Hugging Face file name "${name}" points outside the volume directory.`);
        await mkdir(dirname(target), { recursive: true });
        const filePath = name.split('/').map(encodeURIComponent).join('/');
        await downloadFile(`${endpoint}/${prefix}${repoPath}/resolve/${commit}/${filePath}`, target, ctx.budget, headers, ctx);
      }),
    ),
  );
}
