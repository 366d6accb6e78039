/**
 * Fault suite: attacks on a real miner's validator authentication. Forged, stale, future,
 * replayed, wrong-miner, unknown and below-stake auths, 2,000 sockets that never authenticate and
 * slowloris peers that dribble their upgrade request. Each is refused (an error reply, then the
 * close), logged and counted in the miner's metrics, while an honest validator's job runs through.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHotkey, type Hotkey } from '../../core/src/keys/index.js';
import { HEADERS_TIMEOUT_MS } from '../../core/src/miner/http/server.js';
import { authBlob, createValidatorAuth, encodeMessage, type ValidatorAuthForMiner } from '../../core/src/protocol/index.js';
import { NETUID, startTestMiner, TEST_CLASS, type TestMiner } from '../support/miner-harness.js';
import { testImage } from '../support/services.js';
import { TestValidator } from '../support/test-validator.js';
import { metricValue } from './frames.js';

const TIMING = {
  allowed_leeway: 5,
  download_time_limit: 10,
  execution_time_limit: 20,
  upload_time_limit: 10,
  streaming_start_time_limit: 5,
};
const AUTH_TIMEOUT_S = 3;

/** Every JSON log line the miner wrote. */
const logLines: Array<Record<string, unknown>> = [];
const logStream = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

/** Sends one auth message on a fresh socket; resolves with what came back and whether it closed. */
async function tryAuth(
  url: string,
  path: string,
  auth: ValidatorAuthForMiner,
): Promise<{ replies: Array<Record<string, unknown>>; closed: boolean }> {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}${path}`);
  const replies: Array<Record<string, unknown>> = [];
  socket.on('message', (data) => replies.push(JSON.parse(data.toString()) as Record<string, unknown>));
  const closed = new Promise<boolean>((resolve) => {
    socket.once('close', () => resolve(true));
    setTimeout(() => resolve(false), 5_000).unref();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  socket.send(encodeMessage(auth));
  const wasClosed = await closed;
  if (!wasClosed) socket.terminate();
  return { replies, closed: wasClosed };
}

describe('a miner under attack on its validator authentication', () => {
  let env: TestMiner;
  let lowStake: Hotkey;
  let unknown: Hotkey;

  beforeAll(async () => {
    [lowStake, unknown] = (await Promise.all(['//Eve', '//Ferdie'].map((uri) => loadHotkey({ uri })))) as [Hotkey, Hotkey];
    env = await startTestMiner({
      dialect: 'sqlite',
      runner: 'process',
      processImages: { [testImage()]: ['env'] },
      // The pre-auth connection caps (64 per address, 1,024 in all) would cut most of the 2,000 idle
      // sockets below at once; this file tests the auth timeout, so they are raised here
      // (test/faults/pre-auth-flood.test.ts tests the caps).
      miner: { validatorAuthTimeoutSeconds: AUTH_TIMEOUT_S, preAuth: { connectionsPerAddress: 4_096, connectionsTotal: 4_096 } },
      logger: pino({ level: 'info' }, logStream),
    });
    await env.chain.ledger.registerNeuron({
      netuid: NETUID,
      hotkey: lowStake.ss58,
      coldkey: lowStake.ss58,
      stake: 500,
      validatorPermit: true,
    });
  });
  afterAll(async () => {
    await env?.close();
  });

  it('refuses forged, stale, future, replayed, wrong-miner, unknown and below-stake auths, logs and counts each', async () => {
    const miner = env.minerHotkey.ss58;
    const a = env.validatorA;
    const path = (hotkey: string) => `/v0.1/validator_interface/${hotkey}`;
    const now = Date.now();
    // Forged: validator A's name, signed by validator B.
    const forgedTimestamp = Math.floor(now / 1000);
    const forged: ValidatorAuthForMiner = {
      message_type: 'ValidatorAuthForMiner',
      validator_hotkey: a.ss58,
      miner_hotkey: miner,
      timestamp: forgedTimestamp,
      signature: env.validatorB.sign(authBlob(a.ss58, miner, forgedTimestamp)),
    };
    const replayable = createValidatorAuth(a, miner, now);
    const first = await tryAuth(env.url, path(a.ss58), replayable);
    expect(first.replies[0]).toMatchObject({ message_type: 'V0ExecutorManifestRequest' });

    const attacks: Array<{ name: string; hotkey: string; auth: ValidatorAuthForMiner; reason: string }> = [
      { name: 'forged', hotkey: a.ss58, auth: forged, reason: 'invalid_signature' },
      { name: 'stale', hotkey: a.ss58, auth: createValidatorAuth(a, miner, now - 120_000), reason: 'token_too_old' },
      { name: 'future', hotkey: a.ss58, auth: createValidatorAuth(a, miner, now + 120_000), reason: 'token_from_future' },
      { name: 'replayed', hotkey: a.ss58, auth: replayable, reason: 'replayed' },
      { name: 'wrong miner hotkey', hotkey: a.ss58, auth: createValidatorAuth(a, env.validatorB.ss58, now), reason: 'wrong_miner_hotkey' },
      { name: 'unknown', hotkey: unknown.ss58, auth: createValidatorAuth(unknown, miner, now), reason: 'unknown_validator' },
      { name: 'below stake', hotkey: lowStake.ss58, auth: createValidatorAuth(lowStake, miner, now), reason: 'validator_inactive' },
    ];
    const figures: string[] = [];
    for (const attack of attacks) {
      const result = await tryAuth(env.url, path(attack.hotkey), attack.auth);
      expect(result.closed, `${attack.name}: connection closed`).toBe(true);
      expect(
        result.replies.map((r) => r.message_type),
        `${attack.name}: replies`,
      ).not.toContain('V0ExecutorManifestRequest');
      expect(['UnauthorizedError', 'GenericError'], `${attack.name}: ${JSON.stringify(result.replies)}`).toContain(
        result.replies[0]?.message_type,
      );
      figures.push(`${attack.name}: ${String(result.replies[0]?.message_type)} ${String(result.replies[0]?.code ?? '')}`.trim());
    }
    const metrics = await (await fetch(`${env.url}/metrics`)).text();
    for (const attack of attacks) {
      expect(
        metricValue(metrics, 'horde_miner_validator_auth_refused_total', { reason: attack.reason }),
        `metric for ${attack.name}`,
      ).toBeGreaterThanOrEqual(1);
    }
    const refusals = logLines.filter(
      (l) => l.msg === 'validator authentication refused' || l.msg === 'validator authenticated for a hotkey this miner does not serve',
    );
    expect(refusals.length).toBeGreaterThanOrEqual(attacks.length);
    expect(new Set(refusals.map((l) => String(l.code ?? 'wrong_miner_hotkey').toLowerCase()))).toEqual(
      new Set(attacks.map((x) => x.reason)),
    );
    console.log(`[faults] auth attacks refused: ${figures.join('; ')}`);
  });

  it('keeps serving under 2,000 unauthenticated sockets and slowloris peers, and closes them all', async () => {
    const wsBase = env.url.replace(/^http/, 'ws');
    const { port } = new URL(env.url);
    const metricsBefore = await (await fetch(`${env.url}/metrics`)).text();
    const timeoutsBefore = metricValue(metricsBefore, 'horde_miner_validator_auth_refused_total', { reason: 'auth_timeout' });

    // Slowloris: the upgrade request's headers, one byte every 300 ms, never finished.
    const slow: Socket[] = [];
    const slowClosed: Array<Promise<number>> = [];
    const slowStarted = Date.now();
    for (let i = 0; i < 100; i++) {
      const socket = tcpConnect(Number(port), '127.0.0.1');
      slow.push(socket);
      socket.on('error', () => undefined);
      slowClosed.push(new Promise((resolve) => socket.once('close', () => resolve(Date.now() - slowStarted))));
      socket.once('connect', () => {
        socket.write(
          `GET /v0.1/validator_interface/${env.validatorA.ss58} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`,
        );
        const timer = setInterval(() => (socket.writable ? socket.write('X') : clearInterval(timer)), 300);
        socket.once('close', () => clearInterval(timer));
      });
    }

    // 2,000 websockets that open and never authenticate.
    const idle: WebSocket[] = [];
    const idleClosed: Array<Promise<void>> = [];
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 200 }, async () => {
          const socket = new WebSocket(`${wsBase}/v0.1/validator_interface/${env.validatorA.ss58}`);
          idle.push(socket);
          idleClosed.push(new Promise((resolve) => socket.once('close', () => resolve())));
          await new Promise<void>((resolve, reject) => {
            socket.once('open', () => resolve());
            socket.once('error', reject);
          });
        }),
      );
    }

    // Meanwhile an honest validator authenticates and its job runs through.
    const honest = await TestValidator.connect({ url: env.url, validator: env.validatorB, minerHotkey: env.minerHotkey.ss58 });
    await honest.expect('V0ExecutorManifestRequest');
    const { jobUuid } = await honest.initialJobRequest({ executor_class: TEST_CLASS, docker_image: testImage(), executor_timing: TIMING });
    await honest.expect('V0AcceptJobRequest', jobUuid);
    await honest.acceptedReceipt(jobUuid, 120);
    await honest.expect('V0ExecutorReadyRequest', jobUuid, 30_000);
    await honest.jobRequest({
      job_uuid: jobUuid,
      executor_class: TEST_CLASS,
      docker_image: testImage(),
      docker_run_options_preset: 'none',
      docker_run_cmd: ['sh', '-c', 'echo served'],
      env: {},
    });
    let message = await honest.next(30_000);
    while (message.message_type === 'V0VolumesReadyRequest' || message.message_type === 'V0ExecutionDoneRequest')
      message = await honest.next(30_000);
    expect(message).toMatchObject({
      message_type: 'V0JobFinishedRequest',
      job_uuid: jobUuid,
      docker_process_stdout: expect.stringContaining('served'),
    });
    await honest.close();

    // The idle sockets go at the auth timeout, the slowloris ones at the headers timeout.
    await Promise.all(idleClosed);
    const slowTimes = await Promise.all(slowClosed);
    // Well before Node's own headers timeout (60 s, checked every 30 s), with room for a loaded machine.
    expect(Math.min(...slowTimes)).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 1_000);
    expect(Math.max(...slowTimes)).toBeLessThan(45_000);
    const metrics = await (await fetch(`${env.url}/metrics`)).text();
    expect(metricValue(metrics, 'horde_miner_validator_auth_refused_total', { reason: 'auth_timeout' }) - timeoutsBefore).toBe(idle.length);
    expect(metricValue(metrics, 'horde_miner_validator_connections', {})).toBe(0);
    expect(logLines.filter((l) => l.msg === 'validator did not authenticate in time; closing').length).toBeGreaterThanOrEqual(idle.length);
    console.log(
      `[faults] ${idle.length} unauthenticated sockets closed after the ${AUTH_TIMEOUT_S} s auth timeout; ${slow.length} slowloris peers closed after ${Math.min(...slowTimes)}-${Math.max(...slowTimes)} ms; an honest job ran meanwhile`,
    );
    for (const socket of slow) socket.destroy();
  }, 240_000);
});
