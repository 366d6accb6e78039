import { isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * Joins a path that came from a job (a zip entry, a `relative_path`, a Hugging Face file name) onto
 * a directory the executor owns, or returns null when the result would lie outside it (`..`,
 * absolute paths). Volumes and uploads use it so a job can never make the executor read or write
 * files beyond the job's own directories.
 */
export function joinInside(base: string, untrusted: string): string | null {
  if (untrusted.includes('\0') || isAbsolute(untrusted) || /^[a-zA-Z]:/.test(untrusted)) return null;
  const root = resolve(base);
  const target = resolve(root, untrusted);
  const rel = relative(root, target);
  if (rel === '') return target;
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return null;
  return target;
}
