/**
 * `ObjectStore` on any S3-compatible server (AWS S3, MinIO, R2, s3rver in tests), through the AWS
 * SDK v3. Presigned URLs let executors download volumes and upload outputs without credentials.
 */
import { createReadStream, ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { buffer as readAll } from 'node:stream/consumers';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ObjectStore } from '../contracts/index.js';
import { defineError } from '../errors.js';
import { definedFields } from '../object/defined-fields.js';

export interface S3ObjectStoreOptions {
  /** e.g. `https://s3.eu-central-1.amazonaws.com` or `http://127.0.0.1:9000`; unset means AWS. */
  readonly endpoint?: string;
  readonly region: string;
  readonly bucket: string;
  /** Unset: the SDK's default credential chain (env, profile, instance role). */
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  /** `http://host/bucket/key` URLs; local S3 servers need them. */
  readonly forcePathStyle?: boolean;
}

/** `get()` of a key that does not exist. */
export class ObjectNotFoundError extends defineError('HORDE_OBJECT_NOT_FOUND') {
  constructor(
    readonly bucket: string,
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`Object "${key}" does not exist in bucket "${bucket}".`, options);
  }
}

/** Any other failure of the object store (credentials, network, a missing bucket). */
export class ObjectStoreError extends defineError('HORDE_OBJECT_STORE_FAILED') {}

function httpStatus(error: unknown): number | undefined {
  if (error instanceof S3ServiceException) return error.$metadata.httpStatusCode;
  return undefined;
}

function isNotFound(error: unknown): boolean {
  if (!(error instanceof S3ServiceException)) return false;
  return error.name === 'NoSuchKey' || error.name === 'NotFound' || error.name === 'NoSuchBucket' || httpStatus(error) === 404;
}

/** A fresh `fs.createReadStream(path)` of a whole file (no start/end), whose length `stat` gives. */
function isWholeFileStream(body: unknown): body is ReadStream & { path: string } {
  if (!(body instanceof ReadStream) || typeof body.path !== 'string' || body.bytesRead !== 0) return false;
  const range = body as ReadStream & { start?: number; end?: number };
  return range.start === undefined && (range.end === undefined || range.end === Infinity);
}

export class S3ObjectStore implements ObjectStore {
  readonly bucket: string;
  readonly client: S3Client;

  constructor(options: S3ObjectStoreOptions) {
    this.bucket = options.bucket;
    const credentials =
      options.accessKeyId && options.secretAccessKey
        ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
        : undefined;
    this.client = new S3Client({
      region: options.region,
      forcePathStyle: options.forcePathStyle ?? true,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...definedFields({ credentials }),
      // The SDK's default (flexible checksums on every request, aws-chunked stream bodies) is only
      // understood by AWS itself; S3-compatible servers reject such uploads. Checksums are still
      // sent where the S3 API requires them.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  /** Creates the bucket unless it exists (and is ours). */
  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (error) {
      if (!isNotFound(error)) throw this.failure(`check bucket "${this.bucket}"`, error);
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      // Someone else created it between our HEAD and CREATE.
      if (error instanceof S3ServiceException && error.name === 'BucketAlreadyOwnedByYou') return;
      throw this.failure(`create bucket "${this.bucket}"`, error);
    }
  }

  /**
   * Stores an object. A file stream is sent as a stream with its length from `stat`; any other
   * stream is read into memory first, because S3 needs the length of a single-request upload.
   * (Keep multi-GiB data out of arbitrary streams; pass a file stream or a Buffer.)
   */
  async put(key: string, body: Buffer | string | Readable, options?: { contentType?: string }): Promise<void> {
    let payload: Buffer | string | Readable = body;
    let contentLength: number | undefined;
    if (isWholeFileStream(body)) {
      contentLength = (await stat(body.path)).size;
      // A fresh stream: the one we were given may already be flowing into nothing.
      body.destroy();
      payload = createReadStream(body.path);
    } else if (typeof body !== 'string' && !Buffer.isBuffer(body)) {
      payload = await readAll(body);
    }
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: payload,
          ...definedFields({ ContentLength: contentLength }),
          ...(options?.contentType ? { ContentType: options.contentType } : {}),
        }),
      );
    } catch (error) {
      throw this.failure(`put "${key}"`, error);
    }
  }

  async get(key: string): Promise<Buffer> {
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!response.Body) return Buffer.alloc(0);
      return Buffer.from(await response.Body.transformToByteArray());
    } catch (error) {
      if (isNotFound(error)) throw new ObjectNotFoundError(this.bucket, key, { cause: error });
      throw this.failure(`get "${key}"`, error);
    }
  }

  async head(key: string): Promise<{ size: number; contentType?: string } | null> {
    try {
      const response = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        size: response.ContentLength ?? 0,
        ...(response.ContentType ? { contentType: response.ContentType } : {}),
      };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw this.failure(`head "${key}"`, error);
    }
  }

  /** Deleting a key that does not exist is not an error (S3 semantics). */
  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      throw this.failure(`delete "${key}"`, error);
    }
  }

  /** Every key under `prefix`, across result pages. */
  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    try {
      for await (const page of paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: prefix })) {
        for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
      }
    } catch (error) {
      throw this.failure(`list "${prefix}"`, error);
    }
    return keys;
  }

  presignGet(key: string, expiresInSeconds: number): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: expiresInSeconds });
  }

  presignPut(key: string, expiresInSeconds: number): Promise<string> {
    return getSignedUrl(this.client, new PutObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: expiresInSeconds });
  }

  /** Closes the client's sockets. */
  close(): void {
    this.client.destroy();
  }

  private failure(what: string, error: unknown): ObjectStoreError {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const status = httpStatus(error);
    return new ObjectStoreError(`S3 ${what} in bucket "${this.bucket}" failed${status ? ` (HTTP ${status})` : ''}: ${detail}`, {
      cause: error,
    });
  }
}
