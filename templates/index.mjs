#!/usr/bin/env node
// create-horde-plugin: `npm create horde-plugin@latest [dir] -- --kind <kind>`. See lib/cli.mjs.
import { main } from './lib/cli.mjs';

process.exitCode = await main(process.argv.slice(2), {
  cwd: process.cwd(),
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
