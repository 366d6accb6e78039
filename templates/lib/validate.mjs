import { builtinModules } from 'node:module';

/**
 * Checks of what the user types. Each returns a list of problems (empty when fine), phrased to be
 * shown after `Invalid package name "x": `.
 */

// npm's rules for new package names (validate-npm-package-name), without the dependency.
const NAME_PATTERN = /^(?:@[a-z0-9~-][a-z0-9._~-]*\/)?[a-z0-9~-][a-z0-9._~-]*$/;
const RESERVED = new Set(['node_modules', 'favicon.ico']);

/**
 * @param {string} name
 * @returns {string[]}
 */
export function packageNameProblems(name) {
  /** @type {string[]} */
  const problems = [];
  if (name.length === 0) return ['it is empty'];
  if (name.trim() !== name) problems.push('it starts or ends with spaces');
  if (name.length > 214) problems.push('it is longer than 214 characters');
  if (name.toLowerCase() !== name) problems.push('it contains capital letters');
  const unscoped = name.replace(/^@[^/]*\//, '');
  if (/^[._]/.test(unscoped)) problems.push('it starts with a dot or an underscore');
  if (RESERVED.has(unscoped) || builtinModules.includes(unscoped)) problems.push(`"${unscoped}" is reserved`);
  if (problems.length === 0 && !NAME_PATTERN.test(name)) {
    problems.push('only lower-case letters, digits, "-", ".", "_", "~" and one "@scope/" prefix are allowed');
  }
  return problems;
}

/**
 * A valid package name close to `input` (a directory name such as `My Plugin`), for suggestions.
 * @param {string} input
 * @returns {string}
 */
export function toValidPackageName(input) {
  const cleaned = input
    .trim()
    .toLowerCase()
    .replace(/\s+/g, '-')
    .replace(/^[._]+/, '')
    .replace(/[^a-z0-9~-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  return cleaned || 'horde-plugin-example';
}

/**
 * Whether the name follows the convention that lets people find horde plugins on npm:
 * `horde-plugin-<name>` or `@scope/horde-plugin-<name>` (the shipped ones are `@horde/plugin-<name>`).
 * @param {string} name
 */
export function followsNamingConvention(name) {
  return /^(@[^/]+\/)?horde-plugin-./.test(name) || /^@horde\/(plugin|executor-manager)-./.test(name);
}

/**
 * The description goes into package.json, the README and a string in src/index.ts: one line.
 * @param {string} description
 * @returns {string[]}
 */
export function descriptionProblems(description) {
  /** @type {string[]} */
  const problems = [];
  if (description.trim() === '') problems.push('it is empty');
  if (/[\u0000-\u001f\u007f]/.test(description)) problems.push('it must be a single line without control characters');
  if (description.length > 200) problems.push('it is longer than 200 characters');
  return problems;
}

/**
 * Anything npm accepts as a dependency spec (`^0.1.0`, `file:../horde/core`, `workspace:*`), as
 * long as it is one token.
 * @param {string} spec
 * @returns {string[]}
 */
export function coreVersionProblems(spec) {
  if (spec.trim() === '') return ['it is empty'];
  if (/[\s"'\\]/.test(spec)) return ['it must not contain spaces, quotes or backslashes'];
  return [];
}
