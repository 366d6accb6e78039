/**
 * dockerode, loaded without two parts that a job never uses but that cost every executor agent's
 * start (a cold job waits for it): dockerode's BuildKit session (`lib/session.js`: @grpc/grpc-js
 * and protobufjs, ~100 modules, for `buildImage` with `version: '2'`) and docker-modem's SSH
 * transport (`lib/ssh.js`: ssh2, for `ssh://` engines). Together they are more than half of the
 * modules dockerode loads (measured: `require('dockerode')` 1,170 ms → 350 ms on a loaded 2-core
 * machine; see test/bench/executor-start).
 *
 * Each is replaced in require's cache, before dockerode is first required, by a function that
 * loads the real module on its first call and hands the call on: both modules export one function
 * that their library only calls, so nothing changes but when they load. If the files are not where
 * this dockerode version keeps them, dockerode loads as it is.
 */
import { createRequire } from 'node:module';
import type DockerodeClass from 'dockerode';

const require = createRequire(import.meta.url);

/** Modules that export a single function, named as their package resolves them. */
const DEFERRED: ReadonlyArray<readonly [from: string | null, id: string]> = [
  [null, 'dockerode/lib/session.js'],
  ['dockerode', 'docker-modem/lib/ssh.js'],
];

type Callable = (this: unknown, ...args: unknown[]) => unknown;

function resolveFrom(from: string | null, id: string): string | null {
  try {
    const base = from === null ? require : createRequire(require.resolve(from));
    return base.resolve(id);
  } catch {
    return null;
  }
}

/** Puts a stand-in for the module at `path` in require's cache that loads it on its first call. */
function defer(path: string): void {
  if (require.cache[path]) return;
  let real: Callable | null = null;
  const standIn: Callable = function (this: unknown, ...args: unknown[]) {
    if (!real) {
      delete require.cache[path];
      real = require(path) as Callable;
    }
    return real.apply(this, args);
  };
  const Module = require('node:module') as new (id: string) => NodeJS.Module;
  const stub = new Module(path);
  stub.filename = path;
  stub.loaded = true;
  stub.exports = standIn;
  require.cache[path] = stub;
}

for (const [from, id] of DEFERRED) {
  const path = resolveFrom(from, id);
  if (path) defer(path);
}

/** The dockerode class (default export of `dockerode`). */
const Dockerode = require('dockerode') as typeof DockerodeClass;
export default Dockerode;
