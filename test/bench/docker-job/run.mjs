#!/usr/bin/env node
// A cold job with the docker runner, end to end: validator (this process) → real miner → a real
// `horde executor` process spawned for the job → startup checks → a container of the test image
// running `true` → back. Timed from V0InitialJobRequest to V0JobFinishedRequest, with every
// startup check on (the default, what a miner taking jobs runs: the escape probe per job in the
// job's image), with every check on and a trusted `executor.startupCheckImage` (the probe's pass
// kept per boot and engine: the warm-up job runs it, the timed ones find it kept), and with them
// off (what the checks cost). Floor, measured in the same run: `docker run --rm` of the same image and command plus one
// node spawn. Goal ≤ 2×. `--jobs=N` (default 5, 1 with --quick).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerRunMs, DOCKER_HOST, TEST_IMAGE, testDocker } from '../lib/docker.mjs';
import { extraCaNote, nodeSpawnMs, nodeSpawnWithExtraCaMs } from '../lib/floor.mjs';
import { BENCH_CLASS, startBenchMiner } from '../lib/miner.mjs';
import { median, numberArg, printTable, QUICK, requireThat, round, writeResults } from '../lib/report.mjs';
import { BenchValidator } from '../lib/validator.mjs';

const JOBS = numberArg('jobs', 5, 1);
await testDocker();
process.env.DOCKER_HOST = DOCKER_HOST; // the executor agents inherit it

/** Milliseconds per startup check (and the leftover clean-up is not logged), from the agents' logs. */
const checkMs = {};
async function jobs(executor) {
  const began = performance.now();
  const onLog = (entry) => {
    if (typeof entry.check !== 'string' || typeof entry.ms !== 'number') return;
    const name = entry.cached === true ? `${entry.check} (kept per boot)` : entry.check;
    (checkMs[name] ??= []).push(entry.ms);
  };
  const env = await startBenchMiner({ runner: 'docker', executor, onLog });
  const validator = await BenchValidator.connect(env.url, env.validators[0], env.minerHotkey.ss58);
  const runs = [];
  try {
    for (let i = 0; i < JOBS + 1; i++) {
      const job = await validator.runJobWhenFree({ executorClass: BENCH_CLASS, image: TEST_IMAGE, command: ['true'] });
      if (i > 0) runs.push(job);
    }
  } finally {
    validator.close();
    await env.close();
  }
  console.log(
    `${JOBS + 1} jobs (one to warm up) with ${JSON.stringify(executor)}: ${round((performance.now() - began) / 1000, 1)} s in all`,
  );
  return runs;
}

const checked = await jobs({});
// Its own work dir, so its per-boot cache starts empty: the warm-up job runs the probe.
const trustedWorkDir = mkdtempSync(join(tmpdir(), 'horde-bench-trusted-'));
const trusted = await jobs({ startupCheckImage: TEST_IMAGE, workDir: trustedWorkDir }).finally(() =>
  rmSync(trustedWorkDir, { recursive: true, force: true }),
);
const unchecked = await jobs({ startupChecks: false });
const dockerRuns = [];
for (let i = 0; i < (QUICK ? 2 : 5); i++) dockerRuns.push(await dockerRunMs(['--network', 'none', TEST_IMAGE, 'true']));
const nodeMs = await nodeSpawnMs(QUICK ? 3 : 10);
const nodeWithExtraCaMs = await nodeSpawnWithExtraCaMs(QUICK ? 3 : 10);
const floorMs = median(dockerRuns) + nodeMs;

const row = (label, runs) => ({
  run: label,
  coldP50Ms: round(median(runs.map((r) => r.coldMs)), 0),
  toReadyMs: round(median(runs.map((r) => r.readyMs)), 0),
  readyToFinishedMs: round(median(runs.map((r) => r.warmMs)), 0),
  floorMs: round(floorMs, 0),
  ratio: round(median(runs.map((r) => r.coldMs)) / floorMs, 2),
  goal: '≤ 2×',
});
const rows = [row('startup checks on (default)', checked), row('checks on, trusted image', trusted), row('startup checks off', unchecked)];
printTable(`cold docker job end to end (${JOBS} jobs each, command true)`, rows);
const checksMs = median(checked.map((r) => r.readyMs)) - median(unchecked.map((r) => r.readyMs));
const trustedChecksMs = median(trusted.map((r) => r.readyMs)) - median(unchecked.map((r) => r.readyMs));
console.log(
  `floor = docker run --rm ${round(median(dockerRuns), 0)} ms + node spawn ${round(nodeMs, 0)} ms; the startup checks cost ${round(checksMs, 0)} ms per job, ${round(trustedChecksMs, 0)} ms with the trusted image`,
);
const caNote = extraCaNote(nodeMs, nodeWithExtraCaMs);
if (caNote) console.log(caNote);
const perCheck = Object.fromEntries(Object.entries(checkMs).map(([name, times]) => [name, round(median(times), 0)]));
console.log(
  `per check (median ms, from the agents' logs): ${
    Object.entries(perCheck)
      .map(([name, ms]) => `${name} ${ms}`)
      .join(', ') || 'none logged'
  }`,
);
requireThat(checked.length === JOBS && trusted.length === JOBS && unchecked.length === JOBS, 'not every job finished');
writeResults('docker-job', {
  jobs: JOBS,
  checked: { coldP50Ms: rows[0].coldP50Ms, toReadyP50Ms: rows[0].toReadyMs, ratio: rows[0].ratio },
  trustedImage: { coldP50Ms: rows[1].coldP50Ms, toReadyP50Ms: rows[1].toReadyMs, ratio: rows[1].ratio },
  unchecked: { coldP50Ms: rows[2].coldP50Ms, toReadyP50Ms: rows[2].toReadyMs, ratio: rows[2].ratio },
  startupChecksMs: round(checksMs, 0),
  trustedImageStartupChecksMs: round(trustedChecksMs, 0),
  perCheckMs: perCheck,
  floor: {
    dockerRunMs: round(median(dockerRuns), 0),
    nodeSpawnMs: round(nodeMs, 1),
    nodeSpawnWithExtraCaMs: nodeWithExtraCaMs === null ? null : round(nodeWithExtraCaMs, 1),
    totalMs: round(floorMs, 0),
  },
  goal: { ratio: 2, met: rows[0].ratio <= 2, metWithTrustedImage: rows[1].ratio <= 2 },
});
