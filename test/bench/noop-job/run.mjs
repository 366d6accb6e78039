#!/usr/bin/env node
// No-op job end to end: a validator (this process) → a real miner (its own process) → a real
// `horde executor` process (process runner, command `true`) → back. Per job it times
//   cold: V0InitialJobRequest → V0JobFinishedRequest (the executor agent is spawned for the job),
//   warm: V0JobRequest to a ready executor → V0JobFinishedRequest, split where V0VolumesReadyRequest
//         and V0ExecutionDoneRequest reach the validator (job request handling, the run, the result),
// and compares each with its floor, measured in the same run:
//   warm floor = 4 one-way ws messages (V→M→E, E→M→V) + one spawn of `true` (the job itself),
//   cold floor = 9 one-way messages (initial request, the agent's connect round trip, ready ×2,
//                job request ×2, finished ×2) + 1 sr25519 verify (the started receipt)
//                + one node spawn (the agent) + the warm floor's spawn of `true`.
// Goals: warm ≤ 1.5×, cold ≤ 2×. `--jobs=N` (default 20, 3 with --quick).
import { cryptoRates, extraCaNote, nodeSpawnMs, nodeSpawnWithExtraCaMs, spawnMs, wsOneWayMs } from '../lib/floor.mjs';
import { BENCH_CLASS } from '../lib/miner.mjs';
import { startBenchMinerProcess } from '../lib/miner-process.mjs';
import { median, numberArg, percentile, printTable, QUICK, requireThat, round, writeResults } from '../lib/report.mjs';
import { BenchValidator } from '../lib/validator.mjs';

const JOBS = numberArg('jobs', 20, 3);
const IMAGE = 'bench/noop';

// The miner in its own process, as in a deployment (see miner-process.mjs).
const env = await startBenchMinerProcess({ runner: 'process', processImages: { [IMAGE]: ['true'] } });
const validator = await BenchValidator.connect(env.url, env.validators[0], env.minerHotkey.ss58);
const jobs = [];
try {
  for (let i = 0; i < JOBS + 1; i++) {
    const job = await validator.runJobWhenFree({ executorClass: BENCH_CLASS, image: IMAGE, command: [] });
    requireThat(
      job.finished.return_code === undefined || job.finished.return_code === 0,
      `job ${job.jobUuid} exited ${job.finished.return_code}`,
    );
    if (i > 0) jobs.push(job); // the first warms the page cache and the JIT
  }
} finally {
  validator.close();
  await env.close();
}

const oneWayMs = await wsOneWayMs(QUICK ? 50 : 200);
const crypto = await cryptoRates(QUICK ? 0.2 : 0.5);
const nodeMs = await nodeSpawnMs(QUICK ? 3 : 10);
const nodeWithExtraCaMs = await nodeSpawnWithExtraCaMs(QUICK ? 3 : 10);
const trueMs = await spawnMs('true', [], QUICK ? 3 : 10);
const warmFloorMs = 4 * oneWayMs + trueMs;
const coldFloorMs = 9 * oneWayMs + crypto.verifyMs + nodeMs + trueMs;

const warm = jobs.map((j) => j.warmMs);
const cold = jobs.map((j) => j.coldMs);
// The warm path in the executor's stages, as the validator sees their messages arrive. Their
// floors add up to the warm floor: the first holds the 4 one-way messages (V→M→E, E→M→V), the
// second the spawn; the last (upload stage, result, the miner's relay) none, as its message travels
// the same way as the one before it.
const stageRow = (path, key, floorMs) => {
  const values = jobs.map((j) => j.stages[key]);
  return {
    path,
    p50Ms: round(median(values), 2),
    p90Ms: round(percentile(values, 90), 2),
    floorMs: round(floorMs, 2),
    ratio: '',
    goal: '',
  };
};
const rows = [
  {
    path: 'warm: job request → finished',
    p50Ms: round(median(warm), 2),
    p90Ms: round(percentile(warm, 90), 2),
    floorMs: round(warmFloorMs, 2),
    ratio: round(median(warm) / warmFloorMs, 2),
    goal: '≤ 1.5×',
  },
  stageRow('  of which job request → volumes ready', 'volumesReadyMs', 4 * oneWayMs),
  stageRow('  of which volumes ready → execution done', 'executionMs', trueMs),
  stageRow('  of which execution done → finished', 'resultMs', 0),
  {
    path: 'cold: initial request → finished',
    p50Ms: round(median(cold), 2),
    p90Ms: round(percentile(cold, 90), 2),
    floorMs: round(coldFloorMs, 2),
    ratio: round(median(cold) / coldFloorMs, 2),
    goal: '≤ 2×',
  },
  {
    path: '  of which initial request → accept',
    p50Ms: round(median(jobs.map((j) => j.acceptMs)), 2),
    p90Ms: round(
      percentile(
        jobs.map((j) => j.acceptMs),
        90,
      ),
      2,
    ),
    floorMs: '',
    ratio: '',
    goal: '',
  },
  {
    path: '  of which initial request → executor ready',
    p50Ms: round(median(jobs.map((j) => j.readyMs)), 2),
    p90Ms: round(
      percentile(
        jobs.map((j) => j.readyMs),
        90,
      ),
      2,
    ),
    floorMs: '',
    ratio: '',
    goal: '',
  },
];
printTable(`no-op job end to end, process runner, ${jobs.length} jobs one after another`, rows);
printTable('floor, measured in this run', [
  { part: 'ws one-way message (between processes)', ms: round(oneWayMs, 3) },
  { part: 'sr25519 verify (wasm)', ms: round(crypto.verifyMs, 3) },
  { part: 'sr25519 sign (wasm)', ms: round(crypto.signMs, 3) },
  { part: 'node spawn → exit', ms: round(nodeMs, 2) },
  { part: '`true` spawn → exit', ms: round(trueMs, 2) },
]);
const caNote = extraCaNote(nodeMs, nodeWithExtraCaMs);
if (caNote) console.log(`${caNote} (the cold floor with it: ${round(coldFloorMs - nodeMs + nodeWithExtraCaMs, 1)} ms)`);
requireThat(jobs.length === JOBS, `${jobs.length} of ${JOBS} jobs finished`);
writeResults('noop-job', {
  jobs: jobs.length,
  warm: {
    p50Ms: round(median(warm), 2),
    p90Ms: round(percentile(warm, 90), 2),
    floorMs: round(warmFloorMs, 2),
    ratio: round(median(warm) / warmFloorMs, 2),
    goal: 1.5,
    stagesP50Ms: Object.fromEntries(
      ['volumesReadyMs', 'executionMs', 'resultMs'].map((key) => [key, round(median(jobs.map((j) => j.stages[key])), 2)]),
    ),
  },
  cold: {
    p50Ms: round(median(cold), 2),
    p90Ms: round(percentile(cold, 90), 2),
    floorMs: round(coldFloorMs, 2),
    ratio: round(median(cold) / coldFloorMs, 2),
    goal: 2,
  },
  acceptP50Ms: round(median(jobs.map((j) => j.acceptMs)), 2),
  readyP50Ms: round(median(jobs.map((j) => j.readyMs)), 2),
  floor: {
    wsOneWayMs: round(oneWayMs, 4),
    verifyMs: round(crypto.verifyMs, 4),
    signMs: round(crypto.signMs, 4),
    nodeSpawnMs: round(nodeMs, 2),
    nodeSpawnWithExtraCaMs: nodeWithExtraCaMs === null ? null : round(nodeWithExtraCaMs, 2),
    trueSpawnMs: round(trueMs, 2),
  },
});
