import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHttpServer, type RecordedRequest, type TestHttpServer } from '../../../test/support/http-server.js';
import { s3Config, uniqueBucketName } from '../../../test/support/services.js';
import { readZip } from '../../../test/support/zip.js';
import { testServersEgress } from '../../../test/support/egress.js';
import { S3ObjectStore } from '../objectstore/s3.js';
import { OutputUploadError, uploadOutputs, type UploadOutputsOptions } from './uploads.js';

const logger = pino({ level: 'silent' });

let dir: string;
let out: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'horde-up-'));
  out = join(dir, 'output');
  await mkdir(join(out, 'sub'), { recursive: true });
  await writeFile(join(out, 'result.json'), '{"ok":true}');
  await writeFile(join(out, 'sub', 'log.txt'), 'line 1\nline 2\n');
  await writeFile(join(out, 'big.bin'), Buffer.alloc(50_000, 3));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function opts(extra: Partial<UploadOutputsOptions> = {}): UploadOutputsOptions {
  return { maxBytes: 100 * 1024 * 1024, egress: testServersEgress(), logger, retryDelayMs: 10, ...extra };
}

/** The multipart form of a recorded POST, parsed by undici. */
async function formOf(request: RecordedRequest): Promise<FormData> {
  return new Request('http://x', {
    method: 'POST',
    headers: { 'content-type': String(request.headers['content-type']) },
    body: request.body,
  }).formData();
}

async function expectUploadError(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OutputUploadError);
  expect(error).toMatchObject({ code: 'HORDE_UPLOAD_FAILED' });
  expect((error as Error).message).toMatch(pattern);
}

describe('uploads to an HTTP server', () => {
  let server: TestHttpServer;
  let failuresLeft = 0;
  let inFlight = 0;
  let maxInFlight = 0;

  beforeAll(async () => {
    server = await startHttpServer(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/flaky' && failuresLeft > 0) {
        failuresLeft--;
        return void res.writeHead(502).end('bad gateway');
      }
      if (url.pathname === '/forbidden') return void res.writeHead(403).end('<Error>AccessDenied</Error>');
      if (url.pathname === '/hang') return; // never answers
      if (url.pathname === '/huge-answer') return void res.writeHead(200).end(Buffer.alloc(64 * 1024, 97)); // chunked
      if (url.pathname === '/huge-declared') return void res.writeHead(200, { 'content-length': '65536' }).end(Buffer.alloc(64 * 1024, 97));
      if (url.pathname === '/slow') {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 150));
        inFlight--;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-upload-id': 'u-1' }).end(JSON.stringify({ stored: url.pathname }));
    });
  });
  afterAll(() => server.close());

  const last = () => server.requests.at(-1)!;

  it('zip_and_http_post: multipart with the form fields and the zipped directory as `file`', async () => {
    const results = await uploadOutputs(
      { output_upload_type: 'zip_and_http_post', url: `${server.url}/post`, form_fields: { key: 'jobs/1/output.zip', policy: 'p' } },
      out,
      opts(),
    );
    const form = await formOf(last());
    expect(form.get('key')).toBe('jobs/1/output.zip');
    expect(form.get('policy')).toBe('p');
    const file = form.get('file') as File;
    expect(file.name).toBe('output.zip');
    const entries = await readZip(Buffer.from(await file.arrayBuffer()));
    expect([...entries.keys()].sort()).toEqual(['big.bin', 'result.json', 'sub/', 'sub/log.txt']);
    expect(entries.get('sub/log.txt')!.toString()).toBe('line 1\nline 2\n');

    expect(Object.keys(results)).toEqual(['output.zip']);
    const answer = JSON.parse(results['output.zip']!) as { headers: Record<string, string>; body: string };
    expect(answer.body).toBe('{"stored":"/post"}');
    expect(answer.headers['x-upload-id']).toBe('u-1');
  });

  it('zip_and_http_put: the zip is the body, with its Content-Length', async () => {
    await uploadOutputs({ output_upload_type: 'zip_and_http_put', url: `${server.url}/put` }, out, opts());
    const request = last();
    expect(request.method).toBe('PUT');
    expect(Number(request.headers['content-length'])).toBe(request.body.length);
    expect(request.headers['transfer-encoding']).toBeUndefined();
    const entries = await readZip(request.body);
    expect(entries.get('result.json')!.toString()).toBe('{"ok":true}');
  });

  it('single_file_put and single_file_post send one file with the signed headers', async () => {
    const put = await uploadOutputs(
      {
        output_upload_type: 'single_file_put',
        url: `${server.url}/one`,
        relative_path: 'sub/log.txt',
        signed_headers: { 'x-amz-acl': 'private' },
      },
      out,
      opts(),
    );
    expect(last().body.toString()).toBe('line 1\nline 2\n');
    expect(last().headers['x-amz-acl']).toBe('private');
    expect(Object.keys(put)).toEqual(['sub/log.txt']);

    await uploadOutputs(
      {
        output_upload_type: 'single_file_post',
        url: `${server.url}/one-post`,
        relative_path: 'result.json',
        form_fields: { a: 'b' },
        signed_headers: { 'x-signed': 'yes' },
      },
      out,
      opts(),
    );
    const form = await formOf(last());
    expect(form.get('a')).toBe('b');
    expect(await (form.get('file') as File).text()).toBe('{"ok":true}');
    expect((form.get('file') as File).name).toBe('result.json');
    expect(last().headers['x-signed']).toBe('yes');
  });

  it('multi_upload: each file to its URL, the rest zipped as system_output', async () => {
    const before = server.requests.length;
    const results = await uploadOutputs(
      {
        output_upload_type: 'multi_upload',
        uploads: [
          { output_upload_type: 'single_file_put', url: `${server.url}/m/result`, relative_path: 'result.json' },
          { output_upload_type: 'single_file_post', url: `${server.url}/m/log`, relative_path: 'sub/log.txt' },
        ],
        system_output: { output_upload_type: 'zip_and_http_put', url: `${server.url}/m/system` },
      },
      out,
      opts(),
    );
    expect(Object.keys(results).sort()).toEqual(['result.json', 'sub/log.txt', 'system_output']);
    const requests = server.requests.slice(before);
    const system = requests.find((r) => r.url === '/m/system')!;
    const entries = await readZip(system.body);
    // The files uploaded on their own are not in the zip again.
    expect([...entries.keys()].sort()).toEqual(['big.bin', 'sub/']);
  });

  it('runs at most 3 uploads at a time', async () => {
    for (let i = 0; i < 7; i++) await writeFile(join(out, `f${i}`), `file ${i}`);
    maxInFlight = 0;
    await uploadOutputs(
      {
        output_upload_type: 'multi_upload',
        uploads: Array.from({ length: 7 }, (_, i) => ({
          output_upload_type: 'single_file_put' as const,
          url: `${server.url}/slow`,
          relative_path: `f${i}`,
        })),
      },
      out,
      opts(),
    );
    expect(maxInFlight).toBe(3);
  });

  it('retries a 502 and succeeds', async () => {
    failuresLeft = 2;
    const results = await uploadOutputs({ output_upload_type: 'zip_and_http_put', url: `${server.url}/flaky` }, out, opts());
    expect(failuresLeft).toBe(0);
    expect(JSON.parse(results['output.zip']!).body).toBe('{"stored":"/flaky"}');
  });

  it('gives up after 3 attempts', async () => {
    failuresLeft = 10;
    await expectUploadError(uploadOutputs({ output_upload_type: 'zip_and_http_put', url: `${server.url}/flaky` }, out, opts()), /HTTP 502/);
    expect(failuresLeft).toBe(7);
  });

  it('does not retry a 403 (an expired presigned URL will not heal)', async () => {
    const before = server.requests.length;
    await expectUploadError(
      uploadOutputs({ output_upload_type: 'zip_and_http_put', url: `${server.url}/forbidden?X-Amz-Signature=abc` }, out, opts()),
      /HTTP 403.*AccessDenied/,
    );
    expect(server.requests.length - before).toBe(1);
  });

  it('times out a request that gets no answer', async () => {
    await expectUploadError(
      uploadOutputs({ output_upload_type: 'zip_and_http_put', url: `${server.url}/hang` }, out, opts({ timeoutMs: 200, attempts: 1 })),
      /timed out after 200 ms/,
    );
  });

  it('refuses a response body over the cap', async () => {
    await expectUploadError(
      uploadOutputs({ output_upload_type: 'zip_and_http_put', url: `${server.url}/huge-declared` }, out, opts({ maxResponseBytes: 1024 })),
      /response is 65536 bytes, more than the 1024-byte limit/,
    );
    await expectUploadError(
      uploadOutputs({ output_upload_type: 'zip_and_http_put', url: `${server.url}/huge-answer` }, out, opts({ maxResponseBytes: 1024 })),
      /response exceeds the 1024-byte limit/,
    );
  });

  it('refuses outputs over the size and file-count limits', async () => {
    await expectUploadError(
      uploadOutputs({ output_upload_type: 'zip_and_http_put', url: `${server.url}/put` }, out, opts({ maxBytes: 10_000 })),
      /more than the 10000-byte limit/,
    );
    await expectUploadError(
      uploadOutputs({ output_upload_type: 'zip_and_http_put', url: `${server.url}/put` }, out, opts({ maxFiles: 3 })),
      /4 entries, more than the limit of 3/,
    );
  });

  it('never follows symbolic links out of the output directory', async () => {
    await writeFile(join(dir, 'host-secret'), 'do not upload');
    await symlink(join(dir, 'host-secret'), join(out, 'leak'));
    await uploadOutputs({ output_upload_type: 'zip_and_http_put', url: `${server.url}/put` }, out, opts());
    const entries = await readZip(last().body);
    expect(entries.has('leak')).toBe(false);
    expect([...entries.values()].some((v) => v.toString().includes('do not upload'))).toBe(false);

    await expectUploadError(
      uploadOutputs({ output_upload_type: 'single_file_put', url: `${server.url}/put`, relative_path: 'leak' }, out, opts()),
      /symbolic link/,
    );
    await expectUploadError(
      uploadOutputs({ output_upload_type: 'single_file_put', url: `${server.url}/put`, relative_path: '../host-secret' }, out, opts()),
      /does not name a file inside the output directory/,
    );
  });

  it('reports a missing file by its path before uploading anything', async () => {
    const before = server.requests.length;
    await expectUploadError(
      uploadOutputs(
        {
          output_upload_type: 'multi_upload',
          uploads: [
            { output_upload_type: 'single_file_put', url: `${server.url}/a`, relative_path: 'result.json' },
            { output_upload_type: 'single_file_put', url: `${server.url}/b`, relative_path: 'nope.txt' },
          ],
        },
        out,
        opts(),
      ),
      /Output file not found: nope\.txt/,
    );
    expect(server.requests.length).toBe(before);
  });
});

describe('uploads to S3 through presigned URLs', () => {
  let store: S3ObjectStore;
  beforeAll(async () => {
    store = new S3ObjectStore(s3Config(uniqueBucketName('uploads')));
    await store.ensureBucket();
  });
  afterAll(() => store.close());

  it('zip_and_http_put and single_file_put land in the bucket intact', async () => {
    const results = await uploadOutputs(
      {
        output_upload_type: 'multi_upload',
        uploads: [{ output_upload_type: 'single_file_put', url: await store.presignPut('job-1/big.bin', 300), relative_path: 'big.bin' }],
        system_output: { output_upload_type: 'zip_and_http_put', url: await store.presignPut('job-1/output.zip', 300) },
      },
      out,
      opts(),
    );
    expect((await store.get('job-1/big.bin')).equals(Buffer.alloc(50_000, 3))).toBe(true);
    const entries = await readZip(await store.get('job-1/output.zip'));
    expect([...entries.keys()].sort()).toEqual(['result.json', 'sub/', 'sub/log.txt']);
    // S3 answers a PUT with an ETag header and an empty body.
    expect(JSON.parse(results['big.bin']!).headers.etag).toBeTruthy();
  });

  it('an expired presigned URL fails the upload without retrying', async () => {
    const url = await store.presignPut('job-2/output.zip', 1);
    await new Promise((r) => setTimeout(r, 2100));
    await expectUploadError(uploadOutputs({ output_upload_type: 'zip_and_http_put', url }, out, opts()), /HTTP 403/);
    expect(await store.head('job-2/output.zip')).toBeNull();
  });
});
