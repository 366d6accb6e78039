import type { Readable } from 'node:stream';

/**
 * S3-compatible object storage for job volumes, outputs and prompt series. Presigned URLs let an
 * executor download and upload without credentials.
 *
 * Used by the validator runtime and by job generators (from their factories: resolve
 * `OBJECT_STORE`), never by miners or executors, which only see presigned URLs. Every method but
 * the presigners talks to the server; a failure rejects with an error naming the bucket and key,
 * and the caller decides whether a job or a batch can go on without the object.
 */
export interface ObjectStore {
  readonly bucket: string;
  put(key: string, body: Buffer | string | Readable, options?: { contentType?: string }): Promise<void>;
  /** Throws `ObjectNotFoundError` when the key does not exist. */
  get(key: string): Promise<Buffer>;
  /** Null when the key does not exist. */
  head(key: string): Promise<{ size: number; contentType?: string } | null>;
  delete(key: string): Promise<void>;
  list(prefix: string): Promise<string[]>;
  presignGet(key: string, expiresInSeconds: number): Promise<string>;
  presignPut(key: string, expiresInSeconds: number): Promise<string>;
}
