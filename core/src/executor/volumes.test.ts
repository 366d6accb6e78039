import { existsSync } from 'node:fs';
import { lstat, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHttpServer, type TestHttpServer } from '../../../test/support/http-server.js';
import { makeZip, renameEntries } from '../../../test/support/zip.js';
import { testServersEgress } from '../../../test/support/egress.js';
import { downloadVolume, matchesPattern, VolumeDownloadError, type DownloadVolumeOptions } from './volumes.js';

const logger = pino({ level: 'silent' });
const MiB = 1024 * 1024;

let dir: string;
let target: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'horde-vol-'));
  target = join(dir, 'volume');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function opts(extra: Partial<DownloadVolumeOptions> = {}): DownloadVolumeOptions {
  return { maxBytes: 10 * MiB, egress: testServersEgress(), logger, retryDelayMs: 10, ...extra };
}

/** Relative paths of every file under `root`, sorted. */
async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .sort();
}

async function expectDownloadError(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VolumeDownloadError);
  expect(error).toMatchObject({ code: 'HORDE_DOWNLOAD_FAILED' });
  expect((error as Error).message).toMatch(pattern);
}

describe('inline volumes', () => {
  it('unpacks a base64 zip with nested directories', async () => {
    const zip = await makeZip([
      { name: 'a.txt', data: 'alpha' },
      { name: 'sub/', directory: true },
      { name: 'sub/deep/b.bin', data: Buffer.from([0, 1, 2, 255]) },
      { name: 'run.sh', data: '#!/bin/sh\necho hi\n', mode: 0o100755 },
    ]);
    await downloadVolume({ volume_type: 'inline', contents: zip.toString('base64') }, target, opts());
    expect(await listFiles(target)).toEqual(['a.txt', 'run.sh', 'sub/deep/b.bin']);
    expect(await readFile(join(target, 'a.txt'), 'utf8')).toBe('alpha');
    expect([...(await readFile(join(target, 'sub/deep/b.bin')))]).toEqual([0, 1, 2, 255]);
    expect((await lstat(join(target, 'run.sh'))).mode & 0o111).not.toBe(0);
  });

  it('unpacks under relative_path', async () => {
    const zip = await makeZip([{ name: 'x.txt', data: 'x' }]);
    await downloadVolume({ volume_type: 'inline', contents: zip.toString('base64'), relative_path: 'inputs/v1' }, target, opts());
    expect(await listFiles(target)).toEqual(['inputs/v1/x.txt']);
  });

  it('rejects a relative_path that leaves the volume directory', async () => {
    const zip = await makeZip([{ name: 'x.txt', data: 'x' }]);
    await expectDownloadError(
      downloadVolume({ volume_type: 'inline', contents: zip.toString('base64'), relative_path: '../outside' }, target, opts()),
      /outside the volume directory/,
    );
    await expectDownloadError(
      downloadVolume({ volume_type: 'inline', contents: zip.toString('base64'), relative_path: '/etc' }, target, opts()),
      /outside the volume directory/,
    );
    expect(existsSync(join(dir, 'outside'))).toBe(false);
  });

  it('rejects entries with ../ in their path, writing nothing outside', async () => {
    const zip = renameEntries(await makeZip([{ name: 'XX/XX/evil.txt', data: 'pwned' }]), 'XX/XX/', '../../');
    await expectDownloadError(
      downloadVolume({ volume_type: 'inline', contents: zip.toString('base64') }, target, opts()),
      /Unsafe zip entry.*\.\.\/\.\.\/evil\.txt/,
    );
    expect(existsSync(join(dir, 'evil.txt'))).toBe(false);
    expect(existsSync(join(dir, '..', 'evil.txt'))).toBe(false);
  });

  it('rejects entries with absolute paths', async () => {
    const zip = renameEntries(await makeZip([{ name: 'Xtmp/horde-evil.txt', data: 'pwned' }]), 'Xtmp/horde-evil', '/tmp/horde-evil');
    await expectDownloadError(
      downloadVolume({ volume_type: 'inline', contents: zip.toString('base64') }, target, opts()),
      /Unsafe zip entry.*absolute path/,
    );
    expect(existsSync('/tmp/horde-evil.txt')).toBe(false);
  });

  it('rejects symbolic links', async () => {
    const zip = await makeZip([{ name: 'link', data: '/etc/passwd', mode: 0o120777 }]);
    await expectDownloadError(downloadVolume({ volume_type: 'inline', contents: zip.toString('base64') }, target, opts()), /symbolic link/);
    expect(existsSync(join(target, 'link'))).toBe(false);
  });

  it('stops a zip bomb by its uncompressed size before inflating it', async () => {
    // 20 MiB of zeros deflate to ~20 KiB.
    const zip = await makeZip([{ name: 'zeros', data: Buffer.alloc(20 * MiB) }]);
    expect(zip.length).toBeLessThan(MiB);
    await expectDownloadError(
      downloadVolume({ volume_type: 'inline', contents: zip.toString('base64') }, target, opts({ maxBytes: 5 * MiB })),
      /unpacks to more than the 5242880-byte volume limit/,
    );
    expect(existsSync(join(target, 'zeros'))).toBe(false);
  });

  it('caps the number of entries', async () => {
    const zip = await makeZip(Array.from({ length: 30 }, (_, i) => ({ name: `f${i}`, data: 'x' })));
    await expectDownloadError(
      downloadVolume({ volume_type: 'inline', contents: zip.toString('base64') }, target, opts({ maxZipEntries: 10 })),
      /30 entries, more than the limit of 10/,
    );
  });

  it('rejects data that is not a zip', async () => {
    await expectDownloadError(
      downloadVolume({ volume_type: 'inline', contents: Buffer.from('not a zip at all').toString('base64') }, target, opts()),
      /not a readable zip/,
    );
  });
});

describe('HTTP volumes', () => {
  let server: TestHttpServer;
  const big = Buffer.alloc(3 * MiB, 7);
  let flakyHits = 0;
  let resumeHits = 0;
  let zipBytes: Buffer;

  beforeAll(async () => {
    zipBytes = await makeZip([
      { name: 'data/one.txt', data: 'one' },
      { name: 'data/two.txt', data: 'two' },
    ]);
    server = await startHttpServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      switch (url.pathname) {
        case '/file.txt':
          res.writeHead(200, { 'content-type': 'text/plain' }).end('file contents');
          return;
        case '/archive.zip':
          res.writeHead(200, { 'content-type': 'application/zip' }).end(zipBytes);
          return;
        case '/big':
          res.writeHead(200, { 'content-length': String(big.length) }).end(big);
          return;
        case '/big-chunked': {
          // No Content-Length: only counting the bytes can stop it.
          res.writeHead(200);
          for (let i = 0; i < 6; i++) res.write(Buffer.alloc(MiB, 1));
          res.end();
          return;
        }
        case '/flaky':
          flakyHits++;
          if (flakyHits <= 2) res.writeHead(503).end('try later');
          else res.writeHead(200).end('finally');
          return;
        case '/missing':
          res.writeHead(404).end('no');
          return;
        case '/resume': {
          resumeHits++;
          const range = req.headers.range;
          if (!range) {
            // Half the body, then the connection dies.
            res.writeHead(200, { 'content-length': String(big.length) });
            res.write(big.subarray(0, big.length / 2), () => res.destroy());
            return;
          }
          const start = Number(/bytes=(\d+)-/.exec(range)![1]);
          res
            .writeHead(206, {
              'content-range': `bytes ${start}-${big.length - 1}/${big.length}`,
              'content-length': String(big.length - start),
            })
            .end(big.subarray(start));
          return;
        }
        case '/slow':
          res.writeHead(200);
          res.write('partial');
          // never ends
          return;
        default:
          res.writeHead(404).end();
      }
    });
  });
  afterAll(() => server.close());

  it('downloads a single file to its relative_path', async () => {
    await downloadVolume({ volume_type: 'single_file', url: `${server.url}/file.txt`, relative_path: 'in/deep/f.txt' }, target, opts());
    expect(await readFile(join(target, 'in/deep/f.txt'), 'utf8')).toBe('file contents');
  });

  it('refuses a single file without a file name or outside the directory', async () => {
    await expectDownloadError(
      downloadVolume({ volume_type: 'single_file', url: `${server.url}/file.txt`, relative_path: '' }, target, opts()),
      /needs a relative_path/,
    );
    await expectDownloadError(
      downloadVolume({ volume_type: 'single_file', url: `${server.url}/file.txt`, relative_path: '../../x' }, target, opts()),
      /outside the volume directory/,
    );
  });

  it('downloads and unpacks a zip_url volume', async () => {
    await downloadVolume({ volume_type: 'zip_url', contents: `${server.url}/archive.zip`, relative_path: 'z' }, target, opts());
    expect(await listFiles(target)).toEqual(['z/data/one.txt', 'z/data/two.txt']);
  });

  it('combines a multi_volume into one directory', async () => {
    const inline = await makeZip([{ name: 'inline.txt', data: 'i' }]);
    await downloadVolume(
      {
        volume_type: 'multi_volume',
        volumes: [
          { volume_type: 'inline', contents: inline.toString('base64') },
          { volume_type: 'zip_url', contents: `${server.url}/archive.zip` },
          { volume_type: 'single_file', url: `${server.url}/file.txt`, relative_path: 'single/f.txt' },
        ],
      },
      target,
      opts(),
    );
    expect(await listFiles(target)).toEqual(['data/one.txt', 'data/two.txt', 'inline.txt', 'single/f.txt']);
  });

  it('refuses a download whose Content-Length exceeds the limit', async () => {
    await expectDownloadError(
      downloadVolume({ volume_type: 'single_file', url: `${server.url}/big`, relative_path: 'big' }, target, opts({ maxBytes: MiB })),
      /3145728 bytes, more than the 1048576 bytes left/,
    );
  });

  it('stops a download without Content-Length once it passes the limit', async () => {
    await expectDownloadError(
      downloadVolume(
        { volume_type: 'single_file', url: `${server.url}/big-chunked`, relative_path: 'big' },
        target,
        opts({ maxBytes: 2 * MiB }),
      ),
      /exceeds the limit of 2097152 bytes/,
    );
  });

  it('counts the limit across the parts of a multi_volume', async () => {
    await expectDownloadError(
      downloadVolume(
        {
          volume_type: 'multi_volume',
          volumes: [
            { volume_type: 'single_file', url: `${server.url}/big`, relative_path: 'a' },
            { volume_type: 'single_file', url: `${server.url}/big`, relative_path: 'b' },
          ],
        },
        target,
        opts({ maxBytes: 5 * MiB }),
      ),
      /more than the \d+ bytes left of the 5242880-byte limit/,
    );
  });

  it('retries transient failures (503) and then succeeds', async () => {
    flakyHits = 0;
    await downloadVolume({ volume_type: 'single_file', url: `${server.url}/flaky`, relative_path: 'f' }, target, opts());
    expect(await readFile(join(target, 'f'), 'utf8')).toBe('finally');
    expect(flakyHits).toBe(3);
  });

  it('gives up after the bounded number of attempts', async () => {
    flakyHits = -100;
    await expectDownloadError(
      downloadVolume({ volume_type: 'single_file', url: `${server.url}/flaky`, relative_path: 'f' }, target, opts({ attempts: 2 })),
      /HTTP 503/,
    );
    expect(flakyHits).toBe(-98);
  });

  it('does not retry a 404', async () => {
    const before = server.requests.length;
    await expectDownloadError(
      downloadVolume({ volume_type: 'single_file', url: `${server.url}/missing`, relative_path: 'f' }, target, opts()),
      /HTTP 404/,
    );
    expect(server.requests.length - before).toBe(1);
  });

  it('resumes a broken download with a Range request', async () => {
    resumeHits = 0;
    await downloadVolume({ volume_type: 'single_file', url: `${server.url}/resume`, relative_path: 'r' }, target, opts());
    const data = await readFile(join(target, 'r'));
    expect(data.equals(big)).toBe(true);
    expect(resumeHits).toBe(2);
    // It asked only for what it lacked.
    const start = Number(/^bytes=(\d+)-$/.exec(String(server.requests.at(-1)?.headers.range))?.[1]);
    expect(start).toBeGreaterThan(0);
    expect(start).toBeLessThanOrEqual(big.length / 2);
  });

  it('stops when the signal aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('deadline')), 100);
    await expectDownloadError(
      downloadVolume(
        { volume_type: 'single_file', url: `${server.url}/slow`, relative_path: 's' },
        target,
        opts({ signal: controller.signal }),
      ),
      /aborted/,
    );
  });

  it('keeps presigned query strings out of error messages', async () => {
    const error = await downloadVolume(
      { volume_type: 'single_file', url: `${server.url}/missing?X-Amz-Signature=secret123`, relative_path: 'f' },
      target,
      opts(),
    ).catch((e: unknown) => e as Error);
    expect(error.message).not.toContain('secret123');
  });
});

describe('Hugging Face volumes', () => {
  let hub: TestHttpServer;
  const SHA = '0123456789abcdef0123456789abcdef01234567';
  const modelFiles: Record<string, string> = {
    'config.json': '{"a":1}',
    'model.safetensors': 'weights',
    'tokenizer/vocab.txt': 'hello\nworld',
    'README.md': '# model',
  };

  beforeAll(async () => {
    // Follows the Hub's real routes and shapes: /api/{type}s/{repo}/revision/{rev} lists
    // `siblings`, /{repo}/resolve/{rev}/{path} (datasets under /datasets/) serves the files.
    hub = await startHttpServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const authorized = req.headers.authorization === 'Bearer hf_secret';
      let m = /^\/api\/(models|datasets)\/(.+)\/revision\/([^/]+)$/.exec(url.pathname);
      if (m) {
        const [, type, repo, rev] = m;
        if (repo === 'org/private' && !authorized) return void res.writeHead(401).end('{"error":"Invalid credentials"}');
        if (decodeURIComponent(rev!) !== 'main' && decodeURIComponent(rev!) !== 'refs/pr/1')
          return void res.writeHead(404).end('{"error":"Revision Not Found"}');
        if (repo === 'org/evil') {
          return void res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ sha: SHA, siblings: [{ rfilename: '../../escape.txt' }] }));
        }
        const names = type === 'datasets' ? ['train.csv'] : Object.keys(modelFiles);
        return void res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ id: repo, sha: SHA, siblings: names.map((rfilename) => ({ rfilename })) }));
      }
      m = /^\/(datasets\/)?(org\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
      if (m) {
        const [, datasets, repo, rev, path] = m;
        if (rev !== SHA) return void res.writeHead(404).end('wrong revision');
        if (repo === 'org/private' && !authorized) return void res.writeHead(401).end();
        if (datasets) return void res.writeHead(200).end('a,b\n1,2\n');
        const body = modelFiles[decodeURIComponent(path!)];
        if (body === undefined) return void res.writeHead(404).end();
        return void res.writeHead(200, { 'content-length': String(Buffer.byteLength(body)) }).end(body);
      }
      res.writeHead(404).end();
    });
  });
  afterAll(() => hub.close());

  it('downloads every file of a model repo, pinned to the listed commit', async () => {
    await downloadVolume({ volume_type: 'huggingface_volume', repo_id: 'org/model' }, target, opts({ huggingfaceEndpoint: hub.url }));
    expect(await listFiles(target)).toEqual(['README.md', 'config.json', 'model.safetensors', 'tokenizer/vocab.txt']);
    expect(await readFile(join(target, 'tokenizer/vocab.txt'), 'utf8')).toBe('hello\nworld');
    expect(hub.requests.some((r) => r.url.includes(`/resolve/${SHA}/`))).toBe(true);
  });

  it('honours allow_patterns and relative_path', async () => {
    await downloadVolume(
      { volume_type: 'huggingface_volume', repo_id: 'org/model', allow_patterns: ['*.json', 'tokenizer/'], relative_path: 'models/m' },
      target,
      opts({ huggingfaceEndpoint: hub.url }),
    );
    expect(await listFiles(target)).toEqual(['models/m/config.json', 'models/m/tokenizer/vocab.txt']);
  });

  it('downloads datasets from the datasets routes', async () => {
    await downloadVolume(
      { volume_type: 'huggingface_volume', repo_id: 'org/data', repo_type: 'dataset', revision: 'refs/pr/1' },
      target,
      opts({ huggingfaceEndpoint: hub.url }),
    );
    expect(await readFile(join(target, 'train.csv'), 'utf8')).toBe('a,b\n1,2\n');
    expect(hub.requests.some((r) => r.url === '/api/datasets/org/data/revision/refs%2Fpr%2F1')).toBe(true);
  });

  it('sends the token as a Bearer header, from the volume or the executor default', async () => {
    await expectDownloadError(
      downloadVolume({ volume_type: 'huggingface_volume', repo_id: 'org/private' }, target, opts({ huggingfaceEndpoint: hub.url })),
      /not found or needs a token \(HTTP 401\)/,
    );
    await downloadVolume(
      { volume_type: 'huggingface_volume', repo_id: 'org/private', token: 'hf_secret', allow_patterns: 'config.json' },
      target,
      opts({ huggingfaceEndpoint: hub.url }),
    );
    expect(await listFiles(target)).toEqual(['config.json']);
    await downloadVolume(
      { volume_type: 'huggingface_volume', repo_id: 'org/private', allow_patterns: 'README.md' },
      target,
      opts({ huggingfaceEndpoint: hub.url, huggingfaceToken: 'hf_secret' }),
    );
    expect(await listFiles(target)).toEqual(['README.md', 'config.json']);
  });

  it('reports an unknown revision clearly', async () => {
    await expectDownloadError(
      downloadVolume(
        { volume_type: 'huggingface_volume', repo_id: 'org/model', revision: 'nope' },
        target,
        opts({ huggingfaceEndpoint: hub.url }),
      ),
      /"org\/model" at revision "nope" was not found/,
    );
  });

  it('rejects file names from the Hub that leave the directory', async () => {
    await expectDownloadError(
      downloadVolume({ volume_type: 'huggingface_volume', repo_id: 'org/evil' }, target, opts({ huggingfaceEndpoint: hub.url })),
      /points outside the volume directory/,
    );
    expect(existsSync(join(dir, '..', 'escape.txt'))).toBe(false);
  });

  it('matches patterns like huggingface_hub (fnmatch)', () => {
    expect(matchesPattern('a/b/c.json', '*.json')).toBe(true);
    expect(matchesPattern('c.json', 'a/*')).toBe(false);
    expect(matchesPattern('tokenizer/vocab.txt', 'tokenizer/')).toBe(true);
    expect(matchesPattern('model-00001.safetensors', 'model-0000?.safetensors')).toBe(true);
    expect(matchesPattern('x.bin', '[!a-w]*.bin')).toBe(true);
    expect(matchesPattern('a.bin', '[!a-w]*.bin')).toBe(false);
    expect(matchesPattern('a+b.txt', 'a+b.txt')).toBe(true);
  });
});
