import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError } from './errors.mjs';

/**
 * The `@horde/core` dependency for `--core <path>`: a horde checkout (its root or its `core/`
 * folder, built with `npm run build`) or a tarball made by `npm pack` of core. Until @horde/core is
 * on the npm registry this is how a new package gets one. Returns `file:<absolute path>`.
 * @param {string} path  as given, relative to `cwd`
 * @param {string} cwd
 * @returns {string}
 */
export function coreDependencyFor(path, cwd) {
  const target = resolve(cwd, path);
  if (!existsSync(target)) {
    throw new CliError(
      'INVALID_VALUE',
      `--core ${path}: nothing at ${target}. Give a horde checkout, its core/ folder, or a tarball from npm pack of core.`,
    );
  }
  if (statSync(target).isFile()) {
    if (!/\.(tgz|tar\.gz)$/.test(target))
      throw new CliError('INVALID_VALUE', `--core ${path}: ${target} is a file but not a tarball (.tgz from npm pack).`);
    return `file:${target}`;
  }
  for (const dir of [target, join(target, 'core')]) {
    if (!isCorePackage(dir)) continue;
    if (!existsSync(join(dir, 'dist/index.js'))) {
      throw new CliError(
        'INVALID_VALUE',
        `--core ${path}: ${dir} is @horde/core but not built (no dist/index.js). Run npm run build in the checkout first.`,
      );
    }
    return `file:${dir}`;
  }
  throw new CliError(
    'INVALID_VALUE',
    `--core ${path}: ${target} is neither a horde checkout nor its core/ folder (no package.json of @horde/core).`,
  );
}

/** @param {string} dir */
function isCorePackage(dir) {
  try {
    return existsSync(join(dir, 'package.json')) && JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name === '@horde/core';
  } catch {
    return false;
  }
}

/**
 * What to tell the user when the install failed: with the registry default, @horde/core may simply
 * not be published where npm looks, and `--core` is the fix.
 * @param {string} coreVersion  the dependency written into package.json
 * @param {string} install  the install command, e.g. `npm install`
 * @param {string} shownDir
 */
export function installFailureHint(coreVersion, install, shownDir) {
  if (coreVersion.startsWith('file:')) {
    return `Check that ${coreVersion.slice('file:'.length)} still exists and is built, then run ${install} in ${shownDir}.`;
  }
  return (
    `If npm could not find @horde/core ${coreVersion} (E404, ETARGET or ENOTCACHED), it is not on your registry yet: ` +
    `scaffold again with --core <path to your horde checkout> (or a @horde/core tarball from npm pack), ` +
    `or set "@horde/core": "file:<path to the checkout>/core" in ${shownDir}/package.json and run ${install} in ${shownDir}.`
  );
}
