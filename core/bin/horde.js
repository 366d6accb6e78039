#!/usr/bin/env node
// The `horde` command. The CLI is compiled TypeScript: in a checkout, run `npm run build` first.
// `horde executor` (started by the miner once per job, on the job's critical path) loads only its
// own command: see src/cli/executor-main.ts, bundled at `npm run build` (scripts/bundle-agent.mjs).
import { statSync } from 'node:fs';

const agentOnly = process.argv[2] === 'executor';

/** When npm last installed the tree (it rewrites node_modules/.package-lock.json each time), or 0. */
function installedAt() {
  for (const path of ['../../node_modules/.package-lock.json', '../node_modules/.package-lock.json']) {
    try {
      return statSync(new URL(path, import.meta.url)).mtimeMs;
    } catch {
      // not this layout
    }
  }
  return 0;
}

/**
 * The agent's bundle when it was made from the current tsc build and the installed packages (it is
 * not older than dist/.tsbuildinfo, which `tsc -b` rewrites whenever it emits, nor than the last
 * `npm install`: the bundle carries its own copies of ws, zod and pino, so a dependency update
 * alone must not leave the old ones running), else the unbundled entry.
 */
function agentEntry() {
  try {
    const bundled = statSync(new URL('../dist/agent-bundle/executor-main.js', import.meta.url)).mtimeMs;
    const compiled = statSync(new URL('../dist/.tsbuildinfo', import.meta.url)).mtimeMs;
    if (bundled >= Math.max(compiled, installedAt())) return '../dist/agent-bundle/executor-main.js';
  } catch {
    // no bundle (or no build): the unbundled entry, which reports a missing build
  }
  return '../dist/cli/executor-main.js';
}

let cli;
try {
  cli = await import(agentOnly ? agentEntry() : '../dist/cli/main.js');
} catch (error) {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND' && /cli\/(executor-)?main\.js/.test(String(error.message))) {
    process.stderr.write('horde: @horde/core is not built (core/dist/cli/main.js is missing); run "npm run build" first.\n');
    process.exit(1);
  }
  throw error;
}
await (agentOnly ? cli.executorMain(process.argv) : cli.main(process.argv));
