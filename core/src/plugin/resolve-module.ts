import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';

export type PluginModuleLocation =
  | { readonly found: true; readonly path: string }
  | { readonly found: false; readonly reason: string; /** Installed but unusable (not built, bad exports). */ readonly broken?: boolean };

/** Whether a plugin name is a path (`./x.js`, `../x`, `/abs/x.mjs`) rather than a package name. */
export function isPathName(name: string): boolean {
  return name.startsWith('./') || name.startsWith('../') || name === '.' || name === '..' || isAbsolute(name);
}

type Attempt = { readonly path: string } | { readonly error: string };

function tryResolve(from: string, specifier: string): Attempt {
  try {
    return { path: createRequire(from).resolve(specifier) };
  } catch (error) {
    return { error: error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error) };
  }
}

/** A failure other than "no such package" (a package whose entry file is missing: not built?). */
function brokenPackage(attempt: Attempt, name: string): string | undefined {
  if (!('error' in attempt) || attempt.error.startsWith(`Cannot find module '${name}'`)) return undefined;
  return `package "${name}" is installed but cannot be loaded (${attempt.error}); if it is a workspace package, run npm run build`;
}

/**
 * Finds the file to import for a plugin name. Paths are relative to `baseDir` (the config file's
 * directory). Package names are looked up from `baseDir` first (the user's project), then from
 * @horde/core's own location (plugins installed beside horde, such as the shipped ones).
 */
export function resolvePluginModule(name: string, baseDir: string): PluginModuleLocation {
  if (isPathName(name)) {
    const path = resolve(baseDir, name);
    if (!existsSync(path)) return { found: false, reason: `no file at ${path}` };
    if (statSync(path).isFile()) return { found: true, path };
    // A directory: its package.json `main`/`exports` or index.js, as Node resolves a folder.
    const entry = tryResolve(join(path, 'noop.js'), path);
    return 'path' in entry
      ? { found: true, path: entry.path }
      : { found: false, reason: `${path} is a directory without a usable package.json entry point or index.js (${entry.error})` };
  }
  const fromProject = tryResolve(join(baseDir, 'noop.js'), name);
  if ('path' in fromProject) return { found: true, path: fromProject.path };
  const besideCore = tryResolve(import.meta.url, name);
  if ('path' in besideCore) return { found: true, path: besideCore.path };
  const broken = brokenPackage(fromProject, name) ?? brokenPackage(besideCore, name);
  if (broken) return { found: false, reason: broken, broken: true };
  return { found: false, reason: `no package "${name}" is installed where ${baseDir} or @horde/core can see it` };
}
