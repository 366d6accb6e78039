// What both builds of the executor agent (bundle-agent.mjs: the bundle; agent-snapshot.mjs: the
// startup snapshot) share: how a bare import names its package, and zod with its English locale only.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const core = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The package a bare import specifier names: `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
export const packageOf = (specifier) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

const ZOD_LOCALES = /[\\/]node_modules[\\/]zod[\\/]v4[\\/](classic|core)[\\/]/;

/**
 * zod's entry re-exports all 45 locales (`z.locales`) and sets English, which is all a horde
 * process uses: in a bundle the locale index holds English only (360 kB less to compile).
 * bundle-agent.mjs refuses a bundled module that names `z.locales` or `z.config`.
 */
export const zodEnglishOnly = {
  name: 'horde-zod-english',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      ZOD_LOCALES.test(args.importer) ? { path: 'zod-locales-en', namespace: 'horde-agent' } : undefined,
    );
    build.onLoad({ filter: /^zod-locales-en$/, namespace: 'horde-agent' }, () => ({
      contents: "export { default as en } from 'zod/v4/locales/en.js';",
      resolveDir: core,
    }));
  },
};
