import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** @typedef {'missing' | 'empty' | 'not-empty' | 'not-a-directory'} TargetState */

/**
 * What is at the target path. A directory holding only `.git` counts as empty: scaffolding into a
 * freshly cloned, empty repository is normal.
 * @param {string} path
 * @returns {TargetState}
 */
export function inspectTarget(path) {
  if (!existsSync(path)) return 'missing';
  if (!statSync(path).isDirectory()) return 'not-a-directory';
  const entries = readdirSync(path).filter((entry) => entry !== '.git');
  return entries.length === 0 ? 'empty' : 'not-empty';
}

/**
 * Removes everything in `path` except `.git` (what `--overwrite` promises, as create-vite does).
 * @param {string} path
 */
export function emptyDirectory(path) {
  for (const entry of readdirSync(path)) {
    if (entry === '.git') continue;
    rmSync(join(path, entry), { recursive: true, force: true });
  }
}
