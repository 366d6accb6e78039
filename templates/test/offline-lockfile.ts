/**
 * An npm workspace of generated packages with a package-lock.json, so `npm install --offline`
 * needs nothing but the tarballs `npm ci` of this repository put in npm's cache. Without a
 * lockfile npm must resolve every range (`vitest@^4.0.0`) from registry metadata, which `npm ci`
 * never downloads: on a machine whose cache started empty that install fails with ENOTCACHED. The
 * lock pins every third-party package to the version, tarball URL and integrity this repository's
 * lockfile has (npm leaves out the ones nobody needs), and @horde/core to a packed tarball. One
 * workspace installs the packages in one go: core's dependencies are unpacked once, not per package.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';

interface LockEntry {
  readonly link?: boolean;
  readonly [field: string]: unknown;
}

interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly license?: string;
  readonly dependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly peerDependenciesMeta?: Record<string, unknown>;
  readonly bin?: Record<string, string>;
  readonly engines?: Record<string, string>;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

/** `node_modules/@scope/name` at 1.2.3 → the npm registry's `…/@scope/name/-/name-1.2.3.tgz`. */
function registryTarball(path: string, entry: LockEntry): string {
  const name = (entry['name'] as string | undefined) ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
  return `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${String(entry['version'])}.tgz`;
}

export interface OfflineWorkspace {
  /** This repository: its package-lock.json and core/package.json. */
  readonly repo: string;
  /** The workspace root; the packages are folders directly inside it. */
  readonly root: string;
  readonly packageDirs: readonly string[];
  /** `npm pack` of core; every package's @horde/core dependency must point at it. */
  readonly coreTarball: string;
}

/** Writes `<root>/package.json` (a private workspace of the packages) and `<root>/package-lock.json`. */
export function writeOfflineWorkspace({ repo, root, packageDirs, coreTarball }: OfflineWorkspace): void {
  const workspaces = packageDirs.map((dir) => basename(dir));
  const rootManifest = { name: 'generated-packages', version: '0.0.0', private: true, workspaces };
  writeFileSync(join(root, 'package.json'), `${JSON.stringify(rootManifest, null, 2)}\n`);

  const packages: Record<string, unknown> = { '': { name: rootManifest.name, version: rootManifest.version, workspaces } };
  for (const dir of packageDirs) {
    const own = readJson<Manifest>(join(dir, 'package.json'));
    const folder = basename(dir);
    packages[folder] = {
      name: own.name,
      version: own.version,
      license: own.license,
      dependencies: own.dependencies,
      devDependencies: own.devDependencies,
      engines: own.engines,
    };
    packages[`node_modules/${own.name}`] = { resolved: folder, link: true };
  }
  // Every third-party package of this repository, where npm ci put it (all of them hoisted), with
  // its tarball's URL: this repository's lockfile leaves the registry URL out, and without it npm
  // would look the URL up in registry metadata.
  const workspaceLock = readJson<{ packages: Record<string, LockEntry> }>(join(repo, 'package-lock.json'));
  for (const [path, entry] of Object.entries(workspaceLock.packages)) {
    if (path.startsWith('node_modules/') && !entry.link)
      packages[path] = { ...entry, resolved: entry['resolved'] ?? registryTarball(path, entry) };
  }
  const core = readJson<Manifest>(join(repo, 'core/package.json'));
  packages['node_modules/@horde/core'] = {
    version: core.version,
    resolved: `file:${relative(root, coreTarball)}`,
    integrity: `sha512-${createHash('sha512').update(readFileSync(coreTarball)).digest('base64')}`,
    license: core.license,
    dependencies: core.dependencies,
    peerDependencies: core.peerDependencies,
    peerDependenciesMeta: core.peerDependenciesMeta,
    bin: core.bin,
    engines: core.engines,
  };
  const lock = { name: rootManifest.name, version: rootManifest.version, lockfileVersion: 3, requires: true, packages };
  writeFileSync(join(root, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
}
