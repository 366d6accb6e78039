/**
 * A package-lock.json for a generated package, cut out of this repository's own lockfile.
 *
 * Why: `npm install --offline` without a lockfile needs the registry's packuments (the version
 * lists) of every dependency in npm's cache, and `npm ci` of this repository caches tarballs only,
 * so on a fresh machine the install failed with ENOTCACHED. With a lockfile that pins the versions
 * this repository already installed, npm needs only their tarballs, which `npm ci` put in the cache.
 * It also keeps the generated packages tested against exactly the versions the rest of the suite uses.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import semver from 'semver';

interface LockEntry {
  readonly version?: string;
  readonly resolved?: string;
  readonly link?: boolean;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  readonly [key: string]: unknown;
}

interface Lockfile {
  readonly name?: string;
  readonly version?: string;
  readonly lockfileVersion: number;
  readonly packages: Record<string, LockEntry>;
}

interface PackageJson {
  readonly name: string;
  readonly version: string;
  readonly dependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
  readonly [key: string]: unknown;
}

/** A dependency the root lockfile cannot provide: the templates and the root are out of step. */
export class RootLockfileMismatchError extends Error {
  readonly code = 'ROOT_LOCKFILE_MISMATCH';
  constructor(message: string) {
    super(message);
    this.name = 'RootLockfileMismatchError';
  }
}

/** Where Node (and npm's hoisted layout) finds `name` when required from the package at `from`. */
function locate(packages: Lockfile['packages'], from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = `${base === '' ? '' : `${base}/`}node_modules/${name}`;
    if (packages[candidate] !== undefined) return candidate;
    if (base === '') return undefined;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut === -1 ? '' : base.slice(0, cut);
  }
}

/**
 * Writes `<packageDir>/package-lock.json`: the generated package's devDependencies and everything
 * they need, at the paths and versions of `<repo>/package-lock.json`, and its `@horde/core`
 * dependency as a link to `<repo>/core` (as `file:` installs it; core's own dependencies are found
 * in the repository's node_modules, where `npm ci` put them).
 */
export function writeLockfileFromRoot(packageDir: string, repo: string): void {
  const root = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')) as Lockfile;
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as PackageJson;
  const corePath = relative(packageDir, join(repo, 'core'));
  const coreEntry = root.packages.core;
  if (coreEntry === undefined) throw new RootLockfileMismatchError('the root package-lock.json has no entry for the core workspace');

  const picked = new Map<string, LockEntry>();
  const pick = (from: string, name: string, range: string, optional: boolean): void => {
    const path = locate(root.packages, from, name);
    if (path === undefined) {
      if (optional) return;
      throw new RootLockfileMismatchError(`${name}@${range} (needed by ${from || manifest.name}) is not in the root package-lock.json`);
    }
    const entry = root.packages[path]!;
    if (entry.link === true)
      throw new RootLockfileMismatchError(
        `${name} is a workspace link in the root package-lock.json; a generated package cannot depend on it`,
      );
    if (
      entry.version !== undefined &&
      !semver.satisfies(entry.version, range, { includePrerelease: true }) &&
      !/^(npm:|file:|https?:|git)/.test(range)
    ) {
      throw new RootLockfileMismatchError(
        `${from || manifest.name} wants ${name}@${range}, the root package-lock.json has ${entry.version}: keep the templates' versions in step with the root package.json`,
      );
    }
    if (picked.has(path)) return;
    picked.set(path, entry);
    for (const [dep, depRange] of Object.entries(entry.dependencies ?? {})) pick(path, dep, depRange, false);
    // Platform packages (typescript's, rolldown's) are listed for every platform; npm fetches only this one's.
    for (const [dep, depRange] of Object.entries(entry.optionalDependencies ?? {})) pick(path, dep, depRange, true);
    for (const [dep, depRange] of Object.entries(entry.peerDependencies ?? {})) {
      pick(path, dep, depRange, entry.peerDependenciesMeta?.[dep]?.optional === true);
    }
  };
  for (const [name, range] of Object.entries(manifest.devDependencies ?? {})) pick('', name, range, false);
  for (const [name, range] of Object.entries(manifest.dependencies ?? {})) {
    if (name === '@horde/core') continue;
    pick('', name, range, false);
  }

  const packages: Record<string, LockEntry> = {
    '': { name: manifest.name, version: manifest.version, dependencies: manifest.dependencies, devDependencies: manifest.devDependencies },
    [corePath]: coreEntry,
    'node_modules/@horde/core': { resolved: corePath, link: true },
  };
  for (const path of [...picked.keys()].sort()) packages[path] = picked.get(path)!;
  const lockfile: Lockfile = { name: manifest.name, version: manifest.version, lockfileVersion: 3, packages };
  writeFileSync(join(packageDir, 'package-lock.json'), `${JSON.stringify(lockfile, null, 2)}\n`);
}
