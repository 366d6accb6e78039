import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectArtifacts, MAX_ARTIFACT_BYTES } from './artifacts.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'horde-art-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('collectArtifacts', () => {
  it('returns each small regular file base64-encoded, keyed by its container path', async () => {
    const host = join(dir, 'artifacts');
    await mkdir(join(host, 'nested'), { recursive: true });
    await writeFile(join(host, 'result.txt'), 'answer=42');
    await writeFile(join(host, 'bytes.bin'), Buffer.from([0, 255, 10]));
    await writeFile(join(host, 'nested', 'ignored.txt'), 'subdirectories are not collected');
    await writeFile(join(host, 'big.bin'), Buffer.alloc(MAX_ARTIFACT_BYTES));
    await writeFile(join(host, 'just-small.bin'), Buffer.alloc(MAX_ARTIFACT_BYTES - 1));
    await writeFile(join(dir, 'host-secret'), 'secret');
    await symlink(join(dir, 'host-secret'), join(host, 'leak'));

    const artifacts = await collectArtifacts(host, '/artifacts/');
    expect(Object.keys(artifacts).sort()).toEqual(['/artifacts/bytes.bin', '/artifacts/just-small.bin', '/artifacts/result.txt']);
    expect(Buffer.from(artifacts['/artifacts/result.txt']!, 'base64').toString()).toBe('answer=42');
    expect([...Buffer.from(artifacts['/artifacts/bytes.bin']!, 'base64')]).toEqual([0, 255, 10]);
  });

  it('returns nothing when the directory does not exist', async () => {
    expect(await collectArtifacts(join(dir, 'missing'), '/artifacts')).toEqual({});
  });
});
