import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';

/**
 * Copies a template folder, replacing `{{token}}` in every file. No template engine: the templates
 * are ordinary files that only need names filled in, so a reader sees exactly what they will get.
 */

/**
 * @typedef {object} TemplateTokens
 * @property {string} name         short plugin name (`fair-share`)
 * @property {string} packageName  npm package name (`@acme/horde-plugin-fair-share`)
 * @property {string} description  one line
 * @property {string} className    PascalCase identifier (`FairShare`)
 * @property {string} pluginVar    camelCase identifier (`fairShare`)
 * @property {string} coreVersion  @horde/core dependency spec (`^0.1.0`)
 */

/**
 * npm drops `.gitignore` from published packages (and some tools treat dot files specially), so
 * templates keep these files under another name and they get their real name on copy.
 * @type {Readonly<Record<string, string>>}
 */
const RENAMES = { _gitignore: '.gitignore', _npmrc: '.npmrc' };

const TOKEN = /\{\{\s*([A-Za-z]+)\s*\}\}/g;

/**
 * How a value is written into a file, so a description with quotes cannot break the JSON or the
 * TypeScript string it lands in. Names are already restricted to characters that need no escaping.
 * @param {string} file
 * @returns {(value: string) => string}
 */
function escaperFor(file) {
  const extension = extname(file);
  if (extension === '.json') return (value) => JSON.stringify(value).slice(1, -1);
  if (['.ts', '.mts', '.js', '.mjs'].includes(extension)) {
    return (value) => value.replace(/[\\'"`]/g, (character) => `\\${character}`);
  }
  return (value) => value;
}

/**
 * Replaces every `{{token}}` in `text`. An unknown token is a bug in the template, so it throws
 * rather than leaving `{{typo}}` in a user's file.
 * @param {string} text
 * @param {Readonly<TemplateTokens>} tokens
 * @param {string} file  the file's name, for escaping and for the error message
 * @returns {string}
 */
export function substitute(text, tokens, file) {
  const escape = escaperFor(file);
  return text.replace(TOKEN, (_match, /** @type {string} */ key) => {
    if (!Object.hasOwn(tokens, key)) {
      throw new Error(`template file ${file} uses unknown token {{${key}}}; known: ${Object.keys(tokens).join(', ')}`);
    }
    return escape(tokens[/** @type {keyof TemplateTokens} */ (key)]);
  });
}

/**
 * Copies `from` into `to` (created if needed), substituting tokens in every file.
 * @param {string} from  template folder
 * @param {string} to    target folder
 * @param {Readonly<TemplateTokens>} tokens
 * @returns {Promise<string[]>} the written files, relative to `to`, sorted
 */
export async function copyTemplate(from, to, tokens) {
  /** @type {string[]} */
  const written = [];
  /**
   * @param {string} source
   * @param {string} target
   */
  async function copyDir(source, target) {
    await mkdir(target, { recursive: true });
    for (const entry of await readdir(source, { withFileTypes: true })) {
      const targetName = RENAMES[entry.name] ?? entry.name;
      const sourcePath = join(source, entry.name);
      const targetPath = join(target, targetName);
      if (entry.isDirectory()) {
        await copyDir(sourcePath, targetPath);
      } else if (entry.isFile()) {
        const text = await readFile(sourcePath, 'utf8');
        await writeFile(targetPath, substitute(text, tokens, relative(from, sourcePath)));
        written.push(relative(to, targetPath));
      }
    }
  }
  await copyDir(from, to);
  return written.sort();
}
