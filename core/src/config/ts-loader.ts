import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from './errors.js';

/**
 * Loads `horde.config.ts`. cosmiconfig's own TypeScript loader calls the `typescript` package's
 * JavaScript API, which TypeScript 7 (the native compiler) no longer has, and Node 20 cannot strip
 * types itself; so the file's types are stripped with oxc-transform (loaded only when a `.ts`
 * config is used) and the result is imported from a temporary `.mjs` file beside the original, so
 * the config's own relative and package imports resolve as they would from the `.ts` file.
 */
export async function loadTypeScriptConfig(filepath: string, content: string): Promise<unknown> {
  const { transformSync } = await import('oxc-transform');
  const result = transformSync(filepath, content, { lang: 'ts', sourceType: 'module' });
  if (result.errors.length) {
    const details = result.errors.map((error) => error.message).join('; ');
    throw new ConfigError('HORDE_CONFIG_LOAD_FAILED', `cannot compile ${basename(filepath)}: ${details}`);
  }
  const compiled = join(dirname(filepath), `.${basename(filepath)}.${process.pid}-${randomBytes(4).toString('hex')}.mjs`);
  await writeFile(compiled, result.code);
  try {
    const module = (await import(pathToFileURL(compiled).href)) as { default?: unknown };
    return module.default;
  } finally {
    await rm(compiled, { force: true });
  }
}
