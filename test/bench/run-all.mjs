// `npm run bench`: every benchmark under test/bench/, one after the other (they share 2 cores, so
// running them together would measure each other). Each prints its table and writes
// test/bench/results/<name>.json. Needs `npm run build` first (they run against core/dist).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const benches = readdirSync(benchDir).filter((name) => name !== 'results' && statSync(join(benchDir, name)).isDirectory());
let failed = 0;
for (const name of benches.sort()) {
  process.stdout.write(`\n== ${name}\n`);
  const result = spawnSync(process.execPath, [join(benchDir, name, 'run.mjs'), ...process.argv.slice(2)], { stdio: 'inherit' });
  if (result.status !== 0) {
    failed += 1;
    process.stderr.write(`${name} failed (exit ${result.status ?? result.signal})\n`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;
