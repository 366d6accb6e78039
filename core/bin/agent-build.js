// Which build of the executor agent to start: what scripts/bundle-agent.mjs made at `npm run build`,
// when it is still the build of the code and packages installed now. Plain JavaScript beside
// horde.js, which imports it before anything is compiled (it must work in a checkout without a
// build); the miner imports it too (src/miner/executor-launch.ts), so both follow one rule.
// `core` (the @horde/core directory, as a file: URL ending in /) is a parameter for the tests.
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CORE = new URL('../', import.meta.url);

/** The agent's bundle (an ES module run by bin/horde.js). */
export const agentBundle = (core = CORE) => fileURLToPath(new URL('dist/agent-bundle/executor-main.js', core));
/** The agent's startup snapshot (`node --snapshot-blob`), and beside it which node made it for where. */
export const agentSnapshotBlob = (core = CORE) => fileURLToPath(new URL('dist/agent-bundle/agent.blob', core));

/** When npm last installed the tree (it rewrites node_modules/.package-lock.json each time), or 0. */
function installedAt(core) {
  for (const path of ['../node_modules/.package-lock.json', 'node_modules/.package-lock.json']) {
    try {
      return statSync(new URL(path, core)).mtimeMs;
    } catch {
      // not this layout (a workspace checkout, or an installed package)
    }
  }
  return 0;
}

/**
 * Whether `file` was made from the current tsc build and the installed packages: it is not older
 * than dist/.tsbuildinfo (which `tsc -b` rewrites whenever it emits), nor than the last `npm
 * install` (a bundle carries its own copies of ws, zod and pino, so a dependency update alone must
 * not leave the old ones running). False when either is missing.
 */
export function isCurrentBuild(file, core = CORE) {
  try {
    const made = statSync(file).mtimeMs;
    const compiled = statSync(new URL('dist/.tsbuildinfo', core)).mtimeMs;
    return made >= Math.max(compiled, installedAt(core));
  } catch {
    return false;
  }
}

/**
 * What `agent.blob.json` records: the node that made the snapshot, where, and with which
 * `NODE_OPTIONS` (V8 flags in it, such as `--max-old-space-size`, must match the build's exactly:
 * node refuses the snapshot otherwise; scripts/agent-snapshot.mjs builds it with none).
 */
export function snapshotMaker(blob, env = process.env) {
  return {
    node: process.version,
    execPath: process.execPath,
    platform: process.platform,
    arch: process.arch,
    blob,
    nodeOptions: env.NODE_OPTIONS ?? '',
  };
}

/**
 * The path of the agent's startup snapshot when an agent started with `env` (the miner's
 * environment, which its executor manager passes on) can start from it, else undefined. Node
 * refuses a snapshot made by another version or with other V8 flags (exit 14, before the agent
 * runs: the job would fail), and a snapshot holds the absolute paths of its directory (where it
 * loads dockerode from); so it counts only for the node, platform, path and `NODE_OPTIONS`
 * recorded beside it. Nor with `HORDE_CONFIG` set: the agent then reads that config file, and a
 * snapshot cannot import one (`horde executor` from the bundle can).
 */
export function agentSnapshot(core = CORE, env = process.env) {
  if (env.HORDE_CONFIG !== undefined) return undefined;
  const blob = agentSnapshotBlob(core);
  if (!isCurrentBuild(blob, core)) return undefined;
  let made;
  try {
    made = JSON.parse(readFileSync(`${blob}.json`, 'utf8'));
  } catch {
    return undefined;
  }
  const here = snapshotMaker(blob, env);
  return Object.keys(here).every((key) => made[key] === here[key]) ? blob : undefined;
}
