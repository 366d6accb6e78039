#!/usr/bin/env node
// `npm run build`'s step after `tsc -b`: the executor agent (`horde executor`, dist/cli/executor-main.js)
// as a few files in dist/agent-bundle/, made by esbuild from what tsc emitted. The miner starts one
// agent per cold job and the job waits for it to connect; unbundled, node resolves, reads and
// compiles ~240 modules first (zod alone is ~95, with its 45 locales), which cost ~90 ms of the
// agent's ~250 ms start. bin/horde.js runs the bundle when it is newer than the tsc build it was
// made from, and dist/cli/executor-main.js otherwise (no esbuild installed, `tsc -b` run alone
// since): the same code either way.
//
// - Inlined: @horde/core's own modules and the pure-JS packages the agent loads before it connects
//   (INLINE). Every other package stays an import of node_modules (dockerode, cosmiconfig, knex…),
//   loaded as before, when the code that needs it runs.
// - Code splitting: what the agent imports lazily (the runner, the startup checks, the config file
//   loader of a hand-started agent) goes in chunks that load when that code runs, as unbundled; each
//   module is in exactly one file, so there is one copy of every class (`instanceof` holds).
// - zod's locales: zod's entry re-exports all 45 (`z.locales`), and sets English, which is all a
//   horde process uses (no source names `z.locales` or `z.config`; checked below). In the bundle the
//   locale index holds English only: 360 kB less to compile before the agent connects.
// - The bundle lives two directories below core/, like every dist/<dir>/<file>.js, so paths made
//   from `import.meta.url` resolve as they do unbundled; a bundled module that makes one is refused
//   below unless it is only `createRequire(import.meta.url)` (resolves packages, not files).
// - Then the agent's startup snapshot (agent-snapshot.mjs), which the miner starts instead when it
//   can; this bundle is what `horde executor` runs otherwise.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAgentSnapshot } from './agent-snapshot.mjs';

const core = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(core, 'dist');
const outdir = join(dist, 'agent-bundle');

const INLINE = new Set([
  'zod',
  'ws',
  'commander',
  'pino',
  'pino-std-serializers',
  'sonic-boom',
  'thread-stream',
  'on-exit-leak-free',
  'atomic-sleep',
  'safe-stable-stringify',
  'quick-format-unescaped',
  '@pinojs/redact',
  'process-warning',
]);

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  rmSync(outdir, { recursive: true, force: true });
  console.log('bundle-agent: esbuild is not installed; horde executor runs unbundled (dist/cli/executor-main.js)');
  process.exit(0);
}

const packageOf = (specifier) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');
const ZOD_LOCALES = /[\\/]node_modules[\\/]zod[\\/]v4[\\/](classic|core)[\\/]/;

const zodEnglishOnly = {
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

rmSync(outdir, { recursive: true, force: true });
const result = await esbuild.build({
  entryPoints: { 'executor-main': join(dist, 'cli/executor-main.js') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  metafile: true,
  logLevel: 'warning',
  // CommonJS packages inlined in an ES module (ws) call `require` for node's built-ins.
  banner: {
    js: "import { createRequire as __hordeCreateRequire } from 'node:module'; const require = __hordeCreateRequire(import.meta.url);",
  },
  plugins: [
    zodEnglishOnly,
    {
      name: 'horde-agent',
      setup(build) {
        build.onResolve({ filter: /^[^./]/ }, (args) => {
          if (args.path.startsWith('node:')) return { external: true };
          if (args.path === 'zod/v4/locales/en.js' || INLINE.has(packageOf(args.path))) return undefined;
          return { path: args.path, external: true };
        });
      },
    },
  ],
});

const problems = [];
for (const input of Object.keys(result.metafile.inputs)) {
  const file = join(process.cwd(), input);
  if (!file.startsWith(dist + '/')) continue;
  const source = readFileSync(file, 'utf8');
  if (/\bz\.(locales|config)\b/.test(source)) problems.push(`${relative(core, file)} uses z.locales or z.config`);
  const urls = source.split('\n').filter((line) => line.includes('import.meta.url') && !/createRequire\(import\.meta\.url\)/.test(line));
  if (urls.length > 0) problems.push(`${relative(core, file)} makes a path from import.meta.url: ${urls[0].trim()}`);
}
if (problems.length > 0) {
  rmSync(outdir, { recursive: true, force: true });
  console.error(`bundle-agent: cannot bundle the executor agent:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
writeFileSync(join(outdir, 'README.md'), 'Generated by core/scripts/bundle-agent.mjs at `npm run build`; see there.\n');
const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
console.log(`bundle-agent: dist/agent-bundle/ (${Object.keys(result.metafile.outputs).length} files, ${Math.round(bytes / 1024)} KiB)`);

try {
  const blobBytes = await buildAgentSnapshot(esbuild, { outdir, plugins: [zodEnglishOnly] });
  console.log(`bundle-agent: dist/agent-bundle/agent.blob, the started agent's snapshot (${Math.round(blobBytes / 1024 / 1024)} MiB)`);
} catch (error) {
  // The miner then starts agents from the bundle above: slower to start, the same code.
  console.warn(`bundle-agent: no startup snapshot of the agent (horde executor starts from the bundle): ${error.message}`);
}
