#!/usr/bin/env node
// A miner under 100 validators sending jobs continuously: each validator (its own authenticated
// websocket, its own registered hotkey) sends V0InitialJobRequest, waits for the answer, sends the
// next (the validators run in a child process). Measures admission: the miner's receipt verification (one sr25519 verify per job), store
// writes, reservation and accept. Reports accepted jobs/s, p50/p99 accept latency (goal p99 <
// 10 ms) and the miner's memory per validator connection (RSS growth after connecting, after GC).
// Its floor, measured in the same run: one sr25519 verify + a ws round trip per job.
//
// Executor start is outside this benchmark (noop-job measures it): the executor manager here
// declares as many executors as there will be jobs and starts no process, as a manager that hands
// out already-running machines would; its jobs end when their executor never connects.
// `--validators=N --seconds=S` (quick: 10 validators, 1 s).
import { fork } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cryptoRates, wsOneWayMs } from '../lib/floor.mjs';
import { BENCH_CLASS, startBenchMiner } from '../lib/miner.mjs';
import { median, numberArg, percentile, printTable, QUICK, reexecWithGc, requireThat, round, writeResults } from '../lib/report.mjs';

reexecWithGc(import.meta.url);
const VALIDATORS = numberArg('validators', 100, 10);
const SECONDS = numberArg('seconds', 10, 1);
/** Jobs per second each validator sends in the steady phase. */
const RATE = numberArg('rate', 1, 2);
const IMAGE = 'bench/noop';

/** Follows the ExecutorManager contract (core/src/contracts/executor-manager.ts); starts nothing. */
class PreStartedExecutors {
  handles = new Set();
  async manifest() {
    return { [BENCH_CLASS]: 1_000_000 };
  }
  async start(token) {
    const handle = { id: `pre-started-${token}` };
    this.handles.add(handle.id);
    return handle;
  }
  async poll(handle) {
    return this.handles.has(handle.id) ? { state: 'running' } : { state: 'exited', exitCode: 0 };
  }
  async kill(handle) {
    this.handles.delete(handle.id);
  }
}

const env = await startBenchMiner({ validators: VALIDATORS, manager: new PreStartedExecutors(), processImages: { [IMAGE]: ['true'] } });
// The validators run in another process (they are other machines): this one is the miner alone.
const child = fork(join(dirname(fileURLToPath(import.meta.url)), 'validators.mjs'), { stdio: 'inherit' });
const reply = () =>
  new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`the validators process exited (${code})`)));
  });
globalThis.gc();
const rssBefore = process.memoryUsage().rss;
const heapBefore = process.memoryUsage().heapUsed;
child.send({
  url: env.url,
  minerHotkey: env.minerHotkey.ss58,
  validators: VALIDATORS,
  seconds: SECONDS,
  executorClass: BENCH_CLASS,
  image: IMAGE,
});
await reply();
await new Promise((resolve) => setTimeout(resolve, 200)); // let the last sessions settle
globalThis.gc();
const rssPerConnection = (process.memoryUsage().rss - rssBefore) / VALIDATORS;
const heapPerConnection = (process.memoryUsage().heapUsed - heapBefore) / VALIDATORS;
/** One phase: the validators' figures plus the miner's CPU time per accepted job. */
// What bounds p99 besides the accept itself: how late the miner's event loop ran (timers, bursts of
// other work, GC) and how busy the validators' process was (both share the machine's cores).
async function phase(perValidatorRate) {
  const cpuBefore = process.cpuUsage();
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  child.send({ perValidatorRate });
  const result = await reply();
  loopDelay.disable();
  const cpu = process.cpuUsage(cpuBefore);
  return {
    ...result,
    minerCpuMsPerJob: (cpu.user + cpu.system) / 1000 / Math.max(1, result.latencies.length),
    minerCpuShare: (cpu.user + cpu.system) / 1e6 / result.elapsedS,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    loopDelayMaxMs: loopDelay.max / 1e6,
  };
}
const saturated = await phase(0);
const steady = await phase(RATE);
child.disconnect();
await env.close();

const oneWayMs = await wsOneWayMs(QUICK ? 50 : 200);
const crypto = await cryptoRates(QUICK ? 0.2 : 0.5);
const floorMs = 2 * oneWayMs + crypto.verifyMs;
const rows = [];
const results = {
  validators: VALIDATORS,
  seconds: SECONDS,
  floorMs: round(floorMs, 4),
  verifyPerSecond: round(1000 / crypto.verifyMs, 0),
  rssPerConnectionKiB: round(rssPerConnection / 1024, 1),
  heapPerConnectionKiB: round(heapPerConnection / 1024, 1),
};
for (const [name, run] of [
  ['saturated', saturated],
  ['steady', steady],
]) {
  const label = name === 'saturated' ? 'saturated (each validator: next job once answered)' : `steady (${VALIDATORS * RATE} jobs/s in all)`;
  const p50 = median(run.latencies);
  const p99 = percentile(run.latencies, 99);
  rows.push({
    load: label,
    acceptedPerS: round(run.latencies.length / run.elapsedS, 0),
    p50Ms: round(p50, 2),
    p99Ms: round(p99, 2),
    p99VsFloor: round(p99 / floorMs, 1),
    minerCpuMsPerJob: round(run.minerCpuMsPerJob, 3),
    minerCores: round(run.minerCpuShare, 2),
    validatorsCores: round(run.validatorsCpuShare, 2),
    loopDelayP99Ms: round(run.loopDelayP99Ms, 1),
    declined: run.declined,
    errors: run.errors,
  });
  results[name] = {
    accepted: run.latencies.length,
    acceptedPerSecond: round(run.latencies.length / run.elapsedS, 1),
    acceptP50Ms: round(p50, 3),
    acceptP99Ms: round(p99, 3),
    p99Ratio: round(p99 / floorMs, 2),
    minerCpuMsPerJob: round(run.minerCpuMsPerJob, 3),
    minerCores: round(run.minerCpuShare, 3),
    validatorsCores: round(run.validatorsCpuShare, 3),
    minerLoopDelayP99Ms: round(run.loopDelayP99Ms, 2),
    minerLoopDelayMaxMs: round(run.loopDelayMaxMs, 2),
    declined: run.declined,
    errors: run.errors,
  };
  requireThat(run.latencies.length > 0, `${name}: no job was accepted`);
  requireThat(run.errors === 0, `${name}: ${run.errors} jobs got no answer`);
}
printTable(`miner under ${VALIDATORS} validators sending jobs, ${SECONDS} s per load (goal: p99 < 10 ms)`, rows);
console.log(
  `minerCores / validatorsCores: CPU seconds per second of each process (the machine has ${availableParallelism()}); loopDelayP99Ms: the miner's event-loop delay p99 (monitorEventLoopDelay, 1 ms resolution)`,
);
console.log(
  `floor: accept = ws round trip + one sr25519 verify = ${round(floorMs, 3)} ms; one core verifies ${round(1000 / crypto.verifyMs, 0)}/s; miner CPU floor per job = verify + countersignature = ${round(crypto.verifyMs + crypto.signMs, 3)} ms`,
);
console.log(
  `miner memory per validator connection: ${round(rssPerConnection / 1024, 0)} KiB RSS, ${round(heapPerConnection / 1024, 1)} KiB heap`,
);
results.goal = { p99Ms: 10, metSteady: results.steady.acceptP99Ms < 10 };
writeResults('miner-validators', results);
