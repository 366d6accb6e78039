/**
 * Which package manager ran us, from `npm_config_user_agent` (`pnpm/9.12.0 npm/? node/v20.19.0 …`),
 * which npm, pnpm, yarn and bun all set for the programs they run. Used for the install step and
 * the "next steps" we print, so a pnpm user is not told to run npm.
 */

/**
 * @typedef {object} PackageManager
 * @property {'npm' | 'pnpm' | 'yarn' | 'bun'} name
 * @property {string | undefined} version
 * @property {readonly string[]} install  argv of the install command
 * @property {(script: string) => string} run  how to run a package.json script, for the user to type
 */

/** @type {Record<PackageManager['name'], (script: string) => string>} */
const RUN = {
  npm: (script) => (script === 'test' ? 'npm test' : `npm run ${script}`),
  pnpm: (script) => `pnpm ${script}`,
  yarn: (script) => `yarn ${script}`,
  // `bun test` is bun's own test runner, not the package's script.
  bun: (script) => `bun run ${script}`,
};

/**
 * @param {string | undefined} userAgent  `process.env.npm_config_user_agent`
 * @returns {PackageManager}
 */
export function detectPackageManager(userAgent) {
  const [spec = ''] = (userAgent ?? '').split(' ');
  const [rawName = '', version] = spec.split('/');
  const name = rawName === 'pnpm' || rawName === 'yarn' || rawName === 'bun' ? rawName : 'npm';
  return { name, version: name === rawName ? version : undefined, install: [name, 'install'], run: RUN[name] };
}
