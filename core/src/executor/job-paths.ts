/**
 * Paths a validator names inside the job container. `artifacts_dir` becomes a bind-mount target
 * (`host:{artifacts_dir}`), so it must be a plain absolute path: a `:` would smuggle mount options
 * into the spec (`/art:rshared`), and a target over `/volume` or `/output` would hide the job's
 * own mounts. A bad one is the job's fault and fails the job; it never reaches the runner.
 */
import { posix } from 'node:path';

/** Mount points of every job container (and the kernel's file systems a bind would shadow). */
const RESERVED = ['/volume', '/output', '/script.py', '/proc', '/sys', '/dev'] as const;
const MAX_PATH_LENGTH = 255;
/** Letters, digits and `._-/`: enough for any real directory, nothing a mount spec gives meaning to. */
const PLAIN_PATH = /^\/[A-Za-z0-9._\-/]*$/;

/** Why `dir` cannot be the job's `artifacts_dir`, or null when it can. */
export function artifactsDirProblem(dir: string): string | null {
  if (dir.length > MAX_PATH_LENGTH) return `is longer than ${MAX_PATH_LENGTH} characters`;
  if (!PLAIN_PATH.test(dir)) return 'must be an absolute path of letters, digits and . _ - / only';
  if (dir.split('/').some((segment) => segment === '..' || segment === '.')) return 'must not contain . or .. segments';
  const normal = posix.normalize(dir).replace(/\/+$/, '');
  if (normal === '' || normal === '/') return 'must not be the root directory';
  for (const reserved of RESERVED) {
    if (normal === reserved || normal.startsWith(`${reserved}/`) || reserved.startsWith(`${normal}/`)) {
      return `must not be, contain or lie inside ${reserved}`;
    }
  }
  return null;
}
