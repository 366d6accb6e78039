#!/usr/bin/env node
// GPU hash-rate benchmark: on a machine with an NVIDIA GPU and hashcat, measures hashcat's rate
// for the hash-crack job's three modes (1410 sha256($pass.$salt), 10810 sha384, 1710 sha512) and
// prints it next to the rate the job is sized from (plugins/job-hash-crack's table) for that
// card, then runs the hash-crack job itself (sized for that card, solved by `crack.mjs --solver
// hashcat`) against its bound. The floor measured in the same run is hashcat's start-up: a job of
// one tiny batch, which is what the sizing's `overheadSeconds` stands for.
//
// Without a GPU (no nvidia-smi, or it lists none) or without hashcat it says so and exits 0:
// nothing may require a GPU. Runs against the built packages: `npm run build && npm run bench:gpu-hashrate`.
// Options: --quick (a 15 s job instead of the class's 53 s one).
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const quick = process.argv.includes('--quick');
const resultsFile = join(root, 'test/bench/results/gpu-hashrate.json');
const MODES = { sha256: '1410', sha384: '10810', sha512: '1710' };

function writeResults(results) {
  mkdirSync(dirname(resultsFile), { recursive: true });
  writeFileSync(resultsFile, `${JSON.stringify({ bench: 'gpu-hashrate', at: new Date().toISOString(), quick, ...results }, null, 2)}\n`);
  process.stdout.write(`\nwrote ${resultsFile}\n`);
}

/** The GPUs nvidia-smi lists, or the reason there are none to measure. */
function gpus() {
  const result = spawnSync('nvidia-smi', ['--query-gpu=name,uuid,driver_version,memory.total', '--format=csv,noheader,nounits'], {
    encoding: 'utf8',
  });
  if (result.error) return { none: `no GPU: nvidia-smi is not installed (${result.error.code ?? result.error.message})` };
  if (result.status !== 0)
    return { none: `no GPU: nvidia-smi exited ${result.status}: ${(result.stderr || result.stdout).trim().split('\n')[0]}` };
  const list = result.stdout
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [name, uuid, driver, memoryMiB] = line.split(',').map((field) => field.trim());
      return { name, uuid, driver, memoryMiB: Number(memoryMiB) };
    });
  return list.length > 0 ? { list } : { none: 'no GPU: nvidia-smi lists none' };
}

const found = gpus();
if (found.none) {
  process.stdout.write(
    `gpu-hashrate: ${found.none}. Nothing to measure; the hash-crack job's rate table stays as published (plugins/job-hash-crack/README.md).\n`,
  );
  writeResults({ gpu: null, skipped: found.none });
  process.exit(0);
}
const hashcatVersion = spawnSync(process.env.HASHCAT_BIN ?? 'hashcat', ['--version'], { encoding: 'utf8' });
if (hashcatVersion.error || hashcatVersion.status !== 0) {
  const reason = 'hashcat is not installed (apt-get install hashcat, or run this in the horde/job-hash-crack:1-gpu image)';
  process.stdout.write(
    `gpu-hashrate: ${found.list.length} GPU(s) (${found.list.map((gpu) => gpu.name).join(', ')}) but ${reason}. Nothing measured.\n`,
  );
  writeResults({ gpu: found.list, skipped: reason });
  process.exit(0);
}

const { gpuModelMatches } = await import(join(root, 'core/dist/validator/spec-check.js'));
const hashCrack = await import(join(root, 'plugins/job-hash-crack/dist/index.js'));
const gpu = found.list[0];
const entry = hashCrack.GPU_HASH_RATES.find((candidate) => gpuModelMatches(gpu.name, candidate.model)) ?? null;

/** hashcat's benchmark speed for one mode on every device together, in hashes per second. */
async function benchmark(mode) {
  const args = ['-b', '-m', mode, '--quiet'];
  const { stdout } = await run(process.env.HASHCAT_BIN ?? 'hashcat', args, { maxBuffer: 4 << 20, timeout: 300_000 }).catch((error) => ({
    stdout: error.stdout ?? '',
  }));
  const unit = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  const speeds = [...stdout.matchAll(/Speed\.#(\*|\d+)\.*:\s*([\d.]+)\s*([kMGT]?)H\/s/g)].map((match) => ({
    device: match[1],
    perSecond: Number(match[2]) * unit[match[3]],
  }));
  const total =
    speeds.find((speed) => speed.device === '*') ??
    speeds.reduce((sum, speed) => ({ device: '*', perSecond: sum.perSecond + speed.perSecond }), { device: '*', perSecond: 0 });
  return total.perSecond;
}

const rows = [];
for (const [algorithm, mode] of Object.entries(MODES)) {
  const measured = await benchmark(mode);
  const table = entry ? entry.rates[algorithm] : null;
  rows.push({ algorithm, mode, measuredPerSecond: measured, tablePerSecond: table, ratio: table ? measured / table : null });
}

/** Runs the real job (sized for `rates`, with `sizing`) through crack.mjs with hashcat; seconds and verdict. */
async function runJob(rates, sizing) {
  const generator = new hashCrack.HashCrackGenerator({ rates: { BENCH: rates }, sizing });
  const hardwareClass = {
    id: 'bench.gpu',
    description: 'bench',
    spinUpSeconds: 0,
    shortCode: 'B',
    resources: { gpu: { count: 1, vramGb: 1, models: ['BENCH'] } },
    dockerPreset: 'nvidia_all',
    proof: { jobGenerators: ['hash-crack'], maxJobSeconds: sizing.maxSeconds },
  };
  const params = generator.paramsFor(hardwareClass);
  const job = await generator.generate({ jobUuid: 'bench', minerHotkey: 'bench', executorClass: hardwareClass, cycle: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'gpu-hashrate-'));
  try {
    const { downloadVolume } = await import(join(root, 'core/dist/executor/volumes.js'));
    const { silentLogger } = await import(join(root, 'core/dist/logging/index.js'));
    await downloadVolume(job.spec.volume, dir, { maxBytes: 1 << 20, logger: silentLogger() });
    const started = performance.now();
    const { stdout, stderr } = await run('node', [hashCrack.CRACK_SCRIPT, ...job.spec.command, '--solver', 'hashcat'], {
      env: { ...process.env, HORDE_VOLUME_DIR: dir },
      timeout: 600_000,
    }).catch((error) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? String(error) }));
    const seconds = (performance.now() - started) / 1000;
    const verdict = await job.verify({ stdout, stderr, artifacts: {}, uploadResults: {}, timeTookMs: seconds * 1000 });
    return { seconds, boundSeconds: params.timeLimitSeconds, space: params.alphabet.length ** params.length, verdict };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const measuredRates = Object.fromEntries(rows.map((row) => [row.algorithm, row.measuredPerSecond]));
// Floor: three tiny batches, i.e. three hashcat start-ups and nothing to hash.
const floor = await runJob(measuredRates, { maxSeconds: 0.02, overheadSeconds: 0, margin: 1, hashesPerBatch: 1 });
const sizing = {
  ...hashCrack.GPU_SIZING,
  ...(quick ? { maxSeconds: 15, overheadSeconds: Math.min(12, Math.ceil(floor.seconds) + 1) } : {}),
};
const sizedForTable = entry ? await runJob(entry.rates, sizing) : null;

const fmt = (perSecond) => (perSecond === null ? 'n/a' : `${(perSecond / 1e9).toFixed(2)} G/s`);
process.stdout.write(
  `GPU: ${gpu.name} (${gpu.memoryMiB} MiB, driver ${gpu.driver})${found.list.length > 1 ? ` and ${found.list.length - 1} more` : ''}; table row: ${entry ? entry.model : 'none (card not in the table)'}\n`,
);
process.stdout.write(
  `${'algorithm'.padEnd(10)}${'mode'.padEnd(7)}${'measured'.padStart(12)}${'table'.padStart(12)}${'measured/table'.padStart(16)}\n`,
);
for (const row of rows) {
  process.stdout.write(
    `${row.algorithm.padEnd(10)}${row.mode.padEnd(7)}${fmt(row.measuredPerSecond).padStart(12)}${fmt(row.tablePerSecond).padStart(12)}${(row.ratio === null ? 'n/a' : row.ratio.toFixed(2)).padStart(16)}\n`,
  );
}
process.stdout.write(
  `floor (3 hashcat start-ups, nothing to hash): ${floor.seconds.toFixed(1)} s (the sizing assumes ${hashCrack.GPU_SIZING.overheadSeconds} s)\n`,
);
if (sizedForTable) {
  process.stdout.write(
    `hash-crack job sized for the table's ${entry.model}: ${sizedForTable.seconds.toFixed(1)} s of a ${sizedForTable.boundSeconds} s bound ` +
      `(${(sizedForTable.seconds / sizedForTable.boundSeconds).toFixed(2)} of it; ${sizedForTable.verdict.details})\n`,
  );
}
writeResults({
  gpu: found.list,
  tableRow: entry?.model ?? null,
  rows,
  floorSeconds: floor.seconds,
  job: sizedForTable && { ...sizedForTable, verdict: sizedForTable.verdict },
});
