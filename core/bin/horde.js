#!/usr/bin/env node
// The `horde` command. The CLI is compiled TypeScript: in a checkout, run `npm run build` first.
// `horde executor` (started by the miner once per job, on the job's critical path) loads only its
// own command: see src/cli/executor-main.ts, bundled at `npm run build` (scripts/bundle-agent.mjs).
import { pathToFileURL } from 'node:url';
import { agentBundle, isCurrentBuild } from './agent-build.js';

const agentOnly = process.argv[2] === 'executor';

/** The agent's bundle when it is the build of the current code and packages, else the unbundled entry. */
function agentEntry() {
  const bundle = agentBundle();
  return isCurrentBuild(bundle) ? pathToFileURL(bundle).href : '../dist/cli/executor-main.js';
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
