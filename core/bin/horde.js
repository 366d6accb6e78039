#!/usr/bin/env node
// The `horde` command. The CLI is compiled TypeScript: in a checkout, run `npm run build` first.
let cli;
try {
  cli = await import('../dist/cli/main.js');
} catch (error) {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('cli/main.js')) {
    process.stderr.write('horde: @horde/core is not built (core/dist/cli/main.js is missing); run "npm run build" first.\n');
    process.exit(1);
  }
  throw error;
}
await cli.main(process.argv);
