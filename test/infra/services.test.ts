// The test services that start.sh brings up and global-setup announces: each one answers and the
// helpers in test/support/services.ts give working handles.
import { CreateBucketCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { docker, pgDatabase, s3Client, testImage, uniqueBucketName } from '../support/services.js';

describe('test services', () => {
  it('gives each caller its own PostgreSQL database, and drops it', async () => {
    const a = await pgDatabase();
    const b = await pgDatabase();
    expect(a.url).not.toBe(b.url);
    const client = new pg.Client({ connectionString: a.url });
    await client.connect();
    await client.query('create table t (x int)');
    await client.query('insert into t values (42)');
    expect((await client.query('select x from t')).rows).toEqual([{ x: 42 }]);
    await client.end();

    // The other database is untouched.
    const other = new pg.Client({ connectionString: b.url });
    await other.connect();
    await expect(other.query('select x from t')).rejects.toThrow(/does not exist/);
    await other.end();

    await a.drop();
    await b.drop();
    const probe = new pg.Client({ connectionString: a.url });
    await expect(probe.connect()).rejects.toThrow(/does not exist/);
  });

  it('runs containers on the test dockerd from the imported busybox image', async () => {
    const engine = docker();
    const image = await engine.getImage(testImage()).inspect();
    expect(image.RepoTags).toContain(testImage());
    const info = await engine.info();
    expect(info.Driver).toBeTruthy();
  });

  it('serves S3 with SDK v3 signatures on bucket-level requests (s3rver signature patch applied)', async () => {
    const client = s3Client();
    const bucket = uniqueBucketName('svc');
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const buckets = await client.send(new ListBucketsCommand({}));
    expect(buckets.Buckets?.map((b) => b.Name)).toContain(bucket);
  });
});
