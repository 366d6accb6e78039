// `npm run bench`: every benchmark under test/bench/ (each folder with a run.mjs), one after the
// other (they share 2 cores, so running them together would measure each other). Each prints its
// table and writes test/bench/results/<name>.json. `npm run bench -- --quick` runs them all at
// small sizes (CI does, so that none can rot); its figures are printed, never asserted.
// Needs `npm run build` first (they run against core/dist).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith('--'));
const benches = readdirSync(benchDir)
  .filter((name) => existsSync(join(benchDir, name, 'run.mjs')))
  .filter((name) => only.length === 0 || only.includes(name))
  .sort();
// Sizes a full `npm run bench` of everything uses instead of a benchmark's own default, so the
// whole run stays within about 10 minutes on 2 cores: the scale benchmark's default, 10,000
// miners × 16 executors at 1, 2 and 4 workers, takes 10 minutes or more on its own there; named
// alone (`npm run bench -- scale`) it runs at its default size.
const SUITE_SIZES = { scale: ['--miners=2000'] };
const failed = [];
const timings = [];
const started = performance.now();
for (const name of benches) {
  process.stdout.write(`\n== ${name}\n`);
  const benchStarted = performance.now();
  const flags = args.filter((a) => a.startsWith('--'));
  const suiteSize = only.length === 0 && !flags.includes('--quick') ? (SUITE_SIZES[name] ?? []) : [];
  const result = spawnSync(process.execPath, [join(benchDir, name, 'run.mjs'), ...suiteSize, ...flags], {
    stdio: 'inherit',
  });
  timings.push(`${name} ${((performance.now() - benchStarted) / 1000).toFixed(1)} s`);
  if (result.status !== 0) {
    failed.push(name);
    process.stderr.write(`${name} failed (exit ${result.status ?? result.signal})\n`);
  }
}
console.log(
  `\nbenchmarks: ${benches.length - failed.length} of ${benches.length} ran in ${((performance.now() - started) / 1000).toFixed(1)} s (${timings.join(', ')})${failed.length ? `; failed: ${failed.join(', ')}` : ''}`,
);
process.exitCode = failed.length === 0 ? 0 : 1;
