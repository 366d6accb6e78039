// What a job cannot go below on this machine, measured in the same run as the job: a websocket
// message between two processes, an sr25519 signature and verification through horde's wasm path,
// a process spawn.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import WebSocket from 'ws';
import { DIST, median } from './report.mjs';

const { loadHotkey, verifySignatureSync, cryptoReady } = await import(join(DIST, 'keys/index.js'));
const { defaultExecutorCommand, executorLaunch, localAgentEnv } = await import(join(DIST, 'miner/executor-launch.js'));

/** Median milliseconds from spawn to exit of `command args` (a node spawn: process.execPath -e 0). */
export async function spawnMs(command, args, samples = 10, env = process.env) {
  const times = [];
  for (let i = 0; i < samples + 1; i++) {
    const start = performance.now();
    const child = spawn(command, args, { stdio: 'ignore', env });
    const [code] = await once(child, 'exit');
    if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}`);
    if (i > 0) times.push(performance.now() - start); // the first warms the page cache
  }
  return median(times);
}

/**
 * The environment an agent of this miner starts with (`localAgentEnv`, as LocalExecutorManager
 * gives it): a node spawn is measured in it, as the agents pay one.
 */
const AGENT_ENV = localAgentEnv(
  executorLaunch('floor', {
    command: defaultExecutorCommand(),
    executorAddress: 'ws://127.0.0.1:1',
    startupTimeLimitSeconds: 1,
    executor: { runner: 'process' },
  }),
);

export const nodeSpawnMs = (samples) => spawnMs(process.execPath, ['-e', '0'], samples, AGENT_ENV);

/**
 * Where NODE_EXTRA_CA_CERTS is set, node 20 reads that file and builds its whole root-certificate
 * store at every start, before any script runs. The miner's agents get it as HORDE_EXTRA_CA_CERTS
 * instead (`localAgentEnv`), so `nodeSpawnMs` is measured without it; this is a node spawn with it,
 * for the report to say what the variable costs a plain node start here. Null where it is unset,
 * or where the agents keep it (see `localAgentEnv`: then `nodeSpawnMs` is measured with it).
 */
export async function nodeSpawnWithExtraCaMs(samples) {
  if (!process.env.NODE_EXTRA_CA_CERTS || AGENT_ENV.NODE_EXTRA_CA_CERTS !== '') return null;
  return spawnMs(process.execPath, ['-e', '0'], samples, process.env);
}

/** The line a report prints under its floor table about NODE_EXTRA_CA_CERTS, or null. */
export function extraCaNote(nodeMs, withExtraCaMs) {
  if (withExtraCaMs === null) return null;
  return (
    `NODE_EXTRA_CA_CERTS is set here (${process.env.NODE_EXTRA_CA_CERTS}): a plain node spawn → exit takes ${withExtraCaMs.toFixed(1)} ms with it, ` +
    `${nodeMs.toFixed(1)} ms without; the agents get it as HORDE_EXTRA_CA_CERTS (read at their first HTTPS transfer), so the floor's node spawn is the one without`
  );
}

/**
 * Median one-way latency of a small websocket message between this process and an echo server in
 * another node process (half the round trip), in milliseconds.
 */
export async function wsOneWayMs(samples = 200) {
  const server = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `
    import { WebSocketServer } from 'ws';
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    wss.on('listening', () => process.stdout.write(String(wss.address().port) + '\\n'));
    wss.on('connection', (s) => s.on('message', (m) => s.send(m)));
  `,
    ],
    { cwd: DIST, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [chunk] = await once(server.stdout, 'data');
  const socket = new WebSocket(`ws://127.0.0.1:${String(chunk).trim()}`);
  await once(socket, 'open');
  const frame = JSON.stringify({
    message_type: 'V0JobRequest',
    job_uuid: '3f2b2c1a-0000-4000-8000-000000000000',
    padding: 'x'.repeat(200),
  });
  const rtts = [];
  for (let i = 0; i < samples + 20; i++) {
    const start = performance.now();
    socket.send(frame);
    await once(socket, 'message');
    if (i >= 20) rtts.push(performance.now() - start);
  }
  socket.close();
  server.kill();
  return median(rtts) / 2;
}

/** A receipt-sized message, as the validator signs one per receipt. */
function receiptMessage(key) {
  return JSON.stringify({
    job_uuid: '3f2b2c1a-0000-4000-8000-000000000000',
    miner_hotkey: key.ss58,
    validator_hotkey: key.ss58,
    timestamp: '2026-12-06T20:00:00.123456Z',
    executor_class: 'always_on.test',
    is_organic: true,
    ttl: 30,
  });
}

/**
 * sr25519 signatures per CPU-second of this thread (horde's wasm path, one core): the crypto's
 * cost itself, which a wall-clock rate on a machine shared with other work would understate.
 */
export async function signaturesPerCpuSecond(seconds = 0.5) {
  await cryptoReady();
  const key = await loadHotkey({ uri: '//BenchFloor' });
  const message = receiptMessage(key);
  for (let i = 0; i < 20; i++) key.sign(message);
  let n = 0;
  const start = process.cpuUsage();
  const cpuMs = () => {
    const used = process.cpuUsage(start);
    return (used.user + used.system) / 1000;
  };
  while (cpuMs() < seconds * 1000) {
    for (let i = 0; i < 10; i++) key.sign(message);
    n += 10;
  }
  return n / (cpuMs() / 1000);
}

/** sr25519 signatures and verifications per second through horde's keys (wasm), one core. */
export async function cryptoRates(seconds = 0.5) {
  await cryptoReady();
  const key = await loadHotkey({ uri: '//BenchFloor' });
  const message = receiptMessage(key);
  const rate = (fn) => {
    for (let i = 0; i < 20; i++) fn();
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < seconds * 1000) {
      for (let i = 0; i < 10; i++) fn();
      n += 10;
    }
    return n / ((performance.now() - start) / 1000);
  };
  const signature = key.sign(message);
  const signaturesPerSecond = rate(() => key.sign(message));
  const verifiesPerSecond = rate(() => {
    if (!verifySignatureSync(message, signature, key.ss58)) throw new Error('floor: a valid signature did not verify');
  });
  return { signaturesPerSecond, verifiesPerSecond, signMs: 1000 / signaturesPerSecond, verifyMs: 1000 / verifiesPerSecond };
}
