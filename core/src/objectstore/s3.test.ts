// S3ObjectStore against the real s3rver started by test/services/start.sh.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Config, uniqueBucketName } from '../../../test/support/services.js';
import { ObjectNotFoundError, ObjectStoreError, S3ObjectStore } from './s3.js';

describe('S3ObjectStore', () => {
  let store: S3ObjectStore;
  let dir: string;

  beforeAll(async () => {
    store = new S3ObjectStore(s3Config(uniqueBucketName('objstore')));
    await store.ensureBucket();
    dir = await mkdtemp(join(tmpdir(), 'horde-s3-'));
  });
  afterAll(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('ensureBucket is idempotent', async () => {
    await store.ensureBucket();
    await store.put('x', 'y');
    await store.ensureBucket();
    expect((await store.get('x')).toString()).toBe('y');
  });

  it('puts, gets, heads and deletes objects', async () => {
    await store.put('a/one.txt', 'hello', { contentType: 'text/plain' });
    expect((await store.get('a/one.txt')).toString()).toBe('hello');
    expect(await store.head('a/one.txt')).toEqual({ size: 5, contentType: 'text/plain' });
    await store.delete('a/one.txt');
    expect(await store.head('a/one.txt')).toBeNull();
    await expect(store.get('a/one.txt')).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(store.get('a/one.txt')).rejects.toMatchObject({ code: 'HORDE_OBJECT_NOT_FOUND' });
    // Deleting again is fine.
    await store.delete('a/one.txt');
  });

  it('stores binary buffers, file streams and other streams byte for byte', async () => {
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256));
    await store.put('bin/buffer', bytes);
    expect((await store.get('bin/buffer')).equals(bytes)).toBe(true);

    const file = join(dir, 'data.bin');
    await writeFile(file, bytes);
    await store.put('bin/file', createReadStream(file));
    expect((await store.get('bin/file')).equals(bytes)).toBe(true);
    expect((await store.head('bin/file'))?.size).toBe(bytes.length);

    await store.put('bin/stream', Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]));
    expect((await store.get('bin/stream')).equals(bytes)).toBe(true);
  });

  it('lists keys under a prefix, across pages', async () => {
    const keys = Array.from({ length: 1005 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
    // s3rver pages at 1000 keys, like S3.
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((k) => store.put(k, k)));
    }
    await store.put('other/x', 'x');
    const listed = await store.list('many/');
    expect(listed.sort()).toEqual(keys);
    expect(await store.list('nothing-here/')).toEqual([]);
  });

  it('presigned GET and PUT URLs work without credentials', async () => {
    const putUrl = await store.presignPut('presigned/up.txt', 60);
    const put = await fetch(putUrl, { method: 'PUT', body: 'uploaded by url' });
    expect(put.status).toBe(200);
    expect((await store.get('presigned/up.txt')).toString()).toBe('uploaded by url');

    const getUrl = await store.presignGet('presigned/up.txt', 60);
    const get = await fetch(getUrl);
    expect(get.status).toBe(200);
    expect(await get.text()).toBe('uploaded by url');
  });

  it('rejects a tampered presigned URL with 403', async () => {
    await store.put('presigned/secret.txt', 'secret');
    const url = new URL(await store.presignGet('presigned/secret.txt', 60));
    const signature = url.searchParams.get('X-Amz-Signature')!;
    url.searchParams.set('X-Amz-Signature', (signature[0] === 'a' ? 'b' : 'a') + signature.slice(1));
    expect((await fetch(url)).status).toBe(403);

    // Pointing a valid signature at another key fails too.
    const other = new URL(await store.presignGet('presigned/secret.txt', 60));
    other.pathname = other.pathname.replace('secret.txt', 'up.txt');
    expect((await fetch(other)).status).toBe(403);
  });

  it('rejects an expired presigned URL with 403', async () => {
    await store.put('presigned/short.txt', 'short-lived');
    const url = await store.presignGet('presigned/short.txt', 1);
    expect((await fetch(url)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2100));
    expect((await fetch(url)).status).toBe(403);
  });

  it('reports a wrong secret as an ObjectStoreError naming the bucket', async () => {
    const wrong = new S3ObjectStore({ ...s3Config(store.bucket), secretAccessKey: 'not-the-secret' });
    const failure = await wrong.put('x', 'y').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ObjectStoreError);
    expect(failure).toMatchObject({ code: 'HORDE_OBJECT_STORE_FAILED' });
    expect((failure as Error).message).toContain(store.bucket);
    expect((failure as Error).message).toMatch(/SignatureDoesNotMatch|403/);
    wrong.close();
  });
});
