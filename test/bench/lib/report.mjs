// Shared by the benchmarks: options, the machine description, the table and the results file.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
export const DIST = join(ROOT, 'core/dist');

/** `--quick`: small sizes, seconds in all (CI runs them so that they cannot rot). */
export const QUICK = process.argv.includes('--quick');

/** `--name=value` as a number, else `fallback` (the quick one under --quick). */
export function numberArg(name, full, quick = full) {
  const raw = process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  return raw === undefined ? (QUICK ? quick : full) : Number(raw);
}

export function machine() {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: +(totalmem() / 1024 ** 3).toFixed(1),
    platform: `${platform()} ${release()}`,
    node: process.version,
    loadAverage: loadavg().map((l) => +l.toFixed(2)),
  };
}

/** Percentile (0..100) of an unsorted list of numbers. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function median(values) {
  return percentile(values, 50);
}

export const round = (value, digits = 1) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : value);

/** Prints rows (objects with the same keys) as an aligned table under a title. */
export function printTable(title, rows) {
  console.log(`\n${title}`);
  if (rows.length === 0) return;
  const keys = Object.keys(rows[0]);
  const text = (v) => (typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: 3 }) : String(v ?? ''));
  const widths = keys.map((k) => Math.max(k.length, ...rows.map((r) => text(r[k]).length)));
  console.log(keys.map((k, i) => k.padEnd(widths[i])).join('  '));
  for (const row of rows)
    console.log(
      keys.map((k, i) => (typeof row[k] === 'number' ? text(row[k]).padStart(widths[i]) : text(row[k]).padEnd(widths[i]))).join('  '),
    );
}

/**
 * Writes test/bench/results/<name>.json (a --quick run writes <name>.quick.json, so the full
 * figures the README quotes are not overwritten by CI-sized ones).
 */
export function writeResults(name, results) {
  const out = join(ROOT, 'test/bench/results', `${name}${QUICK ? '.quick' : ''}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify({ benchmark: name, quick: QUICK, date: new Date().toISOString(), machine: machine(), ...results }, null, 2)}\n`,
  );
  console.log(`results written to ${out}`);
}

/** A benchmark that did not do what it measures is broken: fail the run (timings are never asserted). */
export function requireThat(condition, message) {
  if (!condition) {
    console.error(`benchmark broken: ${message}`);
    process.exitCode = 1;
  }
}

/**
 * Memory figures need a garbage collection before each reading: a script calls this first, and
 * runs itself again with --expose-gc when it was started without (exits with that run's status).
 */
export function reexecWithGc(scriptUrl) {
  if (typeof globalThis.gc === 'function') return;
  const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(scriptUrl), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}
