// The executor agent as a V8 startup snapshot (dist/agent-bundle/agent.blob), the second step of
// bundle-agent.mjs. Bundled, the agent still spends ~75 ms over a bare node start compiling and
// initialising zod, its schemas, pino, commander and ws before it connects; a snapshot is the heap
// of an agent that has done all that once, at build time, and `node --snapshot-blob agent.blob`
// starts from it (measured: spawn → connected 144 → 93 ms, against 61-64 ms for `node -e 0`). The
// miner starts agents this way when agent-build.js says the snapshot is current and fits the agent's
// node, NODE_OPTIONS and environment (src/miner/executor-launch.ts), and `bin/horde.js executor` (the
// bundle) otherwise. Miner launches only: a config file (`HORDE_CONFIG`, `--config`) cannot be
// imported from a snapshot, so agent-snapshot-entry.mjs refuses one with a clear error.
//
// What a snapshot may hold (node 20), and how this build keeps to it:
// - One CommonJS script, every package inlined but those that must load from node_modules at run
//   time (RUNTIME_PACKAGES: dockerode, cosmiconfig, native addons, pino-pretty, undici); the build fails if
//   one of them is required while the snapshot is made, so a new top-level import of one is caught
//   (unless the require is in a try, as ws's optional bufferutil is: then it is simply not used).
// - node:http, node:https and node:tls cannot load while a snapshot is built; every `require` of
//   them in the bundle gets an object that loads the module on its first property read (ws and
//   horde read them as `http.request`, `(0, tls.createServer)(…)`: never destructured at load; a
//   destructuring or namespace import at load loads the module then, and so fails the build).
//   ws's buffer-util is the one module that destructures node:http at load, for two functions
//   node 20 does not have (ws then uses its own); it is given those two as undefined.
// - Paths: `import.meta.url` is this bundle's URL, made when the snapshot is built, so the
//   snapshot is only good in this directory; agent-build.js checks that, and the node that made it.
// - Anything a module reads from the environment when it loads is the build machine's: the agent
//   reads its settings when it runs (agent-settings.js), and the inlined packages read only debug
//   switches (NODE_DEBUG, NODE_V8_COVERAGE, WS_NO_BUFFER_UTIL).
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { snapshotMaker } from '../bin/agent-build.js';
import { packageOf, zodEnglishOnly } from './agent-build-plugins.mjs';

const RUNTIME_PACKAGES = new Set(['dockerode', 'cosmiconfig', 'oxc-transform', 'pino-pretty', 'bufferutil', 'utf-8-validate', 'undici']);
const LOADED_ON_FIRST_USE = new Set(['http', 'https', 'tls']);

const entry = fileURLToPath(new URL('agent-snapshot-entry.mjs', import.meta.url));

// Runs first in the bundle, when the snapshot is built. `__hordeRuntimeRequire` loads packages
// from node_modules relative to the bundle, and only when the agent runs.
const PRELUDE = `var __hordeMetaUrl = require('node:url').pathToFileURL(__filename).href;
var __hordeRequire;
function __hordeRuntimeRequire(id) {
  if (require('node:v8').startupSnapshot.isBuildingSnapshot()) {
    throw new Error('agent-snapshot: ' + id + ' is required while the snapshot is built; import it lazily (when the code that needs it runs)');
  }
  return (__hordeRequire ??= require('node:module').createRequire(__filename))(id);
}
function __hordeOnFirstUse(id) {
  let loaded;
  const load = () => (loaded ??= require(id));
  return new Proxy({}, {
    get: (_, key) => load()[key],
    has: (_, key) => key in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(load(), key);
      return descriptor && { ...descriptor, configurable: true };
    },
  });
}
// A UUID made while the snapshot is built would be made again by every agent (node keeps a batch
// of them in the heap); nothing needs one then, so asking for one fails the build.
{
  const crypto = require('node:crypto');
  const randomUUID = crypto.randomUUID;
  crypto.randomUUID = function (...args) {
    if (require('node:v8').startupSnapshot.isBuildingSnapshot()) throw new Error('agent-snapshot: randomUUID() while the snapshot is built; call it when the agent runs');
    return randomUUID.apply(this, args);
  };
}`;

/**
 * Builds `outdir/agent-snapshot.cjs`, then `outdir/agent.blob` from it with this node, and
 * `agent.blob.json` (which node made it, for which path). Returns the blob's size, or throws with
 * why it could not be made; the caller keeps the plain bundle either way.
 */
export async function buildAgentSnapshot(esbuild, { outdir }) {
  const script = join(outdir, 'agent-snapshot.cjs');
  const blob = join(outdir, 'agent.blob');
  await esbuild.build({
    entryPoints: [entry],
    outfile: script,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    // Without comments (some are not ASCII, and V8 keeps a script with one non-ASCII character at
    // two bytes a character: the unminified 2.4 MB bundle took 4.8) and whitespace: a blob of 11.5
    // → 7.7 MB to deserialise, 10 ms less per start. Names stay, so stack traces name functions.
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
    define: { 'import.meta.url': '__hordeMetaUrl' },
    banner: { js: PRELUDE },
    plugins: [
      zodEnglishOnly,
      {
        name: 'horde-agent-snapshot',
        setup(build) {
          build.onLoad({ filter: /[\\/]ws[\\/]lib[\\/]buffer-util\.js$/ }, (args) => {
            const source = readFileSync(args.path, 'utf8');
            const destructured = "const { websocketMask, websocketUnmask } = require('http');";
            if (!source.includes(destructured)) throw new Error(`ws's buffer-util.js no longer has: ${destructured}`);
            return {
              contents: source.replace(destructured, 'const websocketMask = undefined, websocketUnmask = undefined;'),
              loader: 'js',
            };
          });
          build.onResolve({ filter: /^[^./]/ }, (args) => {
            if (args.path.startsWith('node:') || builtinModules.includes(args.path)) return { external: true };
            return RUNTIME_PACKAGES.has(packageOf(args.path)) ? { path: args.path, external: true } : undefined;
          });
        },
      },
    ],
  });

  // esbuild writes every external as `require("id")`; built-ins stay node's require.
  const bundled = readFileSync(script, 'utf8').replace(/\brequire\("([^"]+)"\)/g, (call, id) => {
    const builtin = id.replace(/^node:/, '');
    if (LOADED_ON_FIRST_USE.has(builtin)) return `__hordeOnFirstUse(${JSON.stringify(id)})`;
    if (id.startsWith('node:') || builtinModules.includes(id)) return call;
    return `__hordeRuntimeRequire(${JSON.stringify(id)})`;
  });
  writeFileSync(script, bundled);

  rmSync(blob, { force: true });
  rmSync(`${blob}.json`, { force: true });
  const buildEnv = { ...process.env };
  delete buildEnv.NODE_OPTIONS;
  try {
    // Without NODE_OPTIONS: a V8 flag in it would have to be in every agent's too. --no-warnings:
    // node 20 notes that node:module and node:worker_threads (pino) are not yet verified in
    // snapshots; the agent's tests run it from this snapshot.
    execFileSync(process.execPath, ['--no-warnings', '--snapshot-blob', blob, '--build-snapshot', script], {
      cwd: outdir,
      env: buildEnv,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (error) {
    rmSync(blob, { force: true });
    const stderr = String(error.stderr ?? '').trim();
    throw new Error(stderr.split('\n').slice(0, 8).join('\n') || error.message);
  }
  writeFileSync(`${blob}.json`, `${JSON.stringify(snapshotMaker(blob, buildEnv), null, 2)}\n`);
  return statSync(blob).size;
}
