/**
 * Artifacts: small files a job leaves in its `artifacts_dir`, sent back base64-encoded inside
 * `V0JobFinishedRequest` (ComputeHorde: each regular file directly in the directory, smaller than
 * 1,000,000 bytes, keyed `"{artifacts_dir}/{name}"`; larger files and subdirectories are left out).
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../contracts/index.js';

export const MAX_ARTIFACT_BYTES = 1_000_000;

/**
 * Reads the artifacts from `hostDir` (the host side of the mount) and keys them by their path in
 * the container (`containerDir`). Symbolic links are skipped, never followed: the job made them,
 * and one pointing at a host file would leak it.
 */
export async function collectArtifacts(
  hostDir: string,
  containerDir: string,
  options: { logger?: Logger } = {},
): Promise<Record<string, string>> {
  const prefix = containerDir.replace(/\/+$/, '');
  const artifacts: Record<string, string> = {};
  let names: string[];
  try {
    names = (await readdir(hostDir)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return artifacts;
    throw error;
  }
  for (const name of names) {
    const path = join(hostDir, name);
    const stats = await lstat(path);
    if (!stats.isFile()) {
      options.logger?.warn({ artifact: name, type: stats.isSymbolicLink() ? 'symlink' : 'not a file' }, 'artifact skipped');
      continue;
    }
    if (stats.size >= MAX_ARTIFACT_BYTES) {
      options.logger?.warn({ artifact: name, bytes: stats.size, limit: MAX_ARTIFACT_BYTES }, 'artifact too large, skipped');
      continue;
    }
    artifacts[`${prefix}/${name}`] = (await readFile(path)).toString('base64');
  }
  return artifacts;
}
