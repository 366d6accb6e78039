#!/usr/bin/env node
// The executor agent's start, alone: from spawning it exactly as the miner does (its default
// command line and environment, `executorLaunch`) to its websocket connection arriving at a server in
// this process, which then refuses the token so that the agent exits. This is the part of a cold job
// that `noop-job` reports as "initial request → executor ready" minus the protocol. Floor, measured
// in the same run: one node spawn → exit (`node -e 0`). Per runner kind (the docker runner loads
// dockerode and the startup checks). `--runs=N` (default 15, 4 with --quick).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { extraCaNote, nodeSpawnMs, nodeSpawnWithExtraCaMs } from '../lib/floor.mjs';
import { DIST, median, numberArg, percentile, printTable, QUICK, requireThat, round, writeResults } from '../lib/report.mjs';

const RUNS = numberArg('runs', 15, 4);
const { defaultExecutorCommand, executorLaunch, localAgentEnv } = await import(join(DIST, 'miner/executor-launch.js'));
const { executorSection } = await import(join(DIST, 'config/sections/executor.js'));

const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
await once(server, 'listening');
const address = `ws://127.0.0.1:${server.address().port}`;
let onConnection = () => {};
server.on('connection', (socket) => {
  onConnection();
  // What the miner answers an unknown token: the agent gives up and exits.
  socket.send(JSON.stringify({ message_type: 'GenericError', details: 'No job waiting for token bench' }));
  socket.close();
});

/** Milliseconds from spawn to the agent's connection, and to its exit. */
async function startOnce(runner) {
  const launch = executorLaunch('bench-token', {
    command: defaultExecutorCommand(),
    executorAddress: address,
    startupTimeLimitSeconds: 30,
    executor: executorSection.parse({ runner, machineSpecs: false }),
  });
  const [command, ...args] = launch.argv;
  const connected = new Promise((resolve) => (onConnection = resolve));
  const began = performance.now();
  const child = spawn(command, args, { env: { ...localAgentEnv(launch), HORDE_LOG__LEVEL: 'silent' }, stdio: 'ignore' });
  const exited = once(child, 'exit');
  const which = await Promise.race([connected.then(() => 'connected'), exited.then(() => 'exited')]);
  const connectMs = performance.now() - began;
  await exited;
  requireThat(which === 'connected', `the ${runner} agent exited before it connected`);
  return { connectMs, exitMs: performance.now() - began };
}

const results = {};
for (const runner of ['process', 'docker']) {
  const runs = [];
  for (let i = 0; i < RUNS + 1; i++) {
    const run = await startOnce(runner);
    if (i > 0) runs.push(run); // the first warms the page cache
  }
  results[runner] = runs;
}
server.close();
const floorMs = await nodeSpawnMs(QUICK ? 3 : 10);
const nodeWithExtraCaMs = await nodeSpawnWithExtraCaMs(QUICK ? 3 : 10);

const rows = Object.entries(results).map(([runner, runs]) => {
  const connect = runs.map((r) => r.connectMs);
  return {
    runner,
    spawnToConnectedP50Ms: round(median(connect), 1),
    p90Ms: round(percentile(connect, 90), 1),
    spawnToExitP50Ms: round(median(runs.map((r) => r.exitMs)), 1),
    floorMs: round(floorMs, 1),
    ratio: round(median(connect) / floorMs, 2),
  };
});
printTable(`executor agent start, spawned as the miner does (${RUNS} runs each); floor = node -e 0 spawn → exit`, rows);
const caNote = extraCaNote(floorMs, nodeWithExtraCaMs);
if (caNote) console.log(caNote);
writeResults('executor-start', {
  runs: RUNS,
  floor: {
    nodeSpawnMs: round(floorMs, 1),
    nodeSpawnWithExtraCaMs: nodeWithExtraCaMs === null ? null : round(nodeWithExtraCaMs, 1),
  },
  runners: Object.fromEntries(rows.map((row) => [row.runner, row])),
});
