import { parseArgs } from 'node:util';
import { CliError } from './errors.mjs';
import { KINDS } from './kinds.mjs';

/**
 * @typedef {object} CliOptions
 * @property {string | undefined} targetDir
 * @property {string | undefined} kind
 * @property {string | undefined} name
 * @property {string | undefined} description
 * @property {string | undefined} coreVersion
 * @property {string | undefined} core  a horde checkout or a core tarball (becomes `file:<path>`)
 * @property {boolean} overwrite
 * @property {boolean} skipInstall
 * @property {boolean | undefined} interactive  undefined: decide from stdin being a terminal
 * @property {boolean} help
 * @property {boolean} list
 */

const OPTIONS = /** @type {const} */ ({
  kind: { type: 'string', short: 'k' },
  name: { type: 'string', short: 'n' },
  description: { type: 'string', short: 'd' },
  'core-version': { type: 'string' },
  core: { type: 'string' },
  overwrite: { type: 'boolean' },
  'skip-install': { type: 'boolean' },
  interactive: { type: 'boolean', short: 'i' },
  help: { type: 'boolean', short: 'h' },
  list: { type: 'boolean', short: 'l' },
});

/**
 * Parses the command line (everything after `create-horde-plugin`; npm passes what follows `--`).
 * Every `--flag` also has `--no-flag`, so a default can be switched off explicitly.
 * @param {readonly string[]} argv
 * @returns {CliOptions}
 */
export function parseCliArgs(argv) {
  const { values, positionals } = parseOrExplain(argv);
  if (positionals.length > 1) {
    throw new CliError(
      'USAGE',
      `Expected one target directory, got ${positionals.length}: ${positionals.join(' ')}. Quote a path that contains spaces.`,
    );
  }
  return {
    targetDir: positionals[0],
    kind: values.kind,
    name: values.name,
    description: values.description,
    coreVersion: values['core-version'],
    core: values.core,
    overwrite: values.overwrite ?? false,
    skipInstall: values['skip-install'] ?? false,
    interactive: values.interactive,
    help: values.help ?? false,
    list: values.list ?? false,
  };
}

/** @param {readonly string[]} argv */
function parseOrExplain(argv) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, allowNegative: true, strict: true });
  } catch (error) {
    // parseArgs says e.g. "Unknown option '--knd'"; add where to look.
    const message = error instanceof Error ? error.message : String(error);
    throw new CliError('USAGE', `${message}. Run create-horde-plugin --help for the options.`);
  }
}

/** @param {string} defaultCoreVersion */
export function helpText(defaultCoreVersion) {
  const width = Math.max(...KINDS.map((kind) => kind.id.length));
  const kinds = KINDS.map((kind) => `  ${kind.id.padEnd(width)}  ${kind.summary}`).join('\n');
  return `Usage: npm create horde-plugin@latest [target-dir] -- [options]
       create-horde-plugin [target-dir] [options]

Creates a horde plugin package in target-dir: a working example implementation, its tests
(run against @horde/core's test kit), a README and everything needed to build and publish it.

Options:
  -k, --kind <kind>            plugin kind (below); asked for when interactive
  -n, --name <name>            npm package name (default: the target directory's name);
                               convention: horde-plugin-<name> or @scope/horde-plugin-<name>
  -d, --description <text>     one-line package description
      --core <path>            depend on @horde/core from a horde checkout (built) or a tarball
                               from npm pack of core: writes file:<absolute path>
      --core-version <spec>    @horde/core dependency as an npm spec (default ${defaultCoreVersion})
      --overwrite              empty a non-empty target directory first (keeps .git)
      --skip-install           do not run the package manager's install afterwards
  -i, --interactive            ask for what the flags leave out (default: when stdin is a terminal)
      --no-interactive         never ask: use the flags and the defaults
  -l, --list                   list the plugin kinds and exit
  -h, --help                   show this help and exit

Kinds:
${kinds}

Examples:
  node horde/templates/index.mjs horde-plugin-fair-share --kind scoring-rule --core ./horde
  npm create horde-plugin@latest horde-plugin-fair-share -- --kind scoring-rule
  npx create-horde-plugin my-manager --kind executor-manager --name @acme/horde-plugin-gpu-pool
`;
}

export function kindsText() {
  const width = Math.max(...KINDS.map((kind) => kind.id.length));
  return `${KINDS.map((kind) => `${kind.id.padEnd(width)}  ${kind.contract} (${kind.role}): ${kind.summary}`).join('\n')}\n`;
}
