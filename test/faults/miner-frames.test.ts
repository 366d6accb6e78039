/**
 * Fault suite: 10,000 bad frames (malformed, truncated, oversized, deeply nested, random bytes,
 * wrong shapes) at a real miner's validator and executor endpoints, before and after
 * authentication, while another validator's job runs on a real executor process. The miner must
 * answer each bad frame with a GenericError or close only the socket it came on, keep serving,
 * finish the other job, count the frames in its metrics, and give back the memory they took.
 */
import { randomUUID } from 'node:crypto';
import v8 from 'node:v8';
import vm from 'node:vm';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutorHandle, ExecutorManager, ExecutorStartContext, ExecutorStatus, Logger } from '../../core/src/contracts/index.js';
import { createValidatorAuth, encodeMessage } from '../../core/src/protocol/index.js';
import { LocalExecutorManager } from '../../executor-managers/local/src/local-executor-manager.js';
import { startTestMiner, TEST_CLASS, type TestMiner } from '../support/miner-harness.js';
import { testImage } from '../support/services.js';
import { TestValidator } from '../support/test-validator.js';
import { badFrames, metricValue, take, type BadFrame } from './frames.js';

/** Jobs of this class get no process: the test itself connects as their executor (an attacker with a token). */
const ATTACK_CLASS = 'always_on.attack';
const TIMING = {
  allowed_leeway: 5,
  download_time_limit: 10,
  execution_time_limit: 20,
  upload_time_limit: 10,
  streaming_start_time_limit: 5,
};
const MAX_FRAME = 50 * 1024 * 1024;

/** Real executors for the test class; for the attack class only the tokens (ExecutorManager contract). */
class TokenCapturingManager implements ExecutorManager {
  readonly tokens: string[] = [];
  private readonly held = new Set<string>();
  constructor(private readonly local: LocalExecutorManager) {}
  async manifest() {
    return { ...(await this.local.manifest()), [ATTACK_CLASS]: 4 };
  }
  async start(token: string, executorClass: string, ctx: ExecutorStartContext): Promise<ExecutorHandle> {
    if (executorClass !== ATTACK_CLASS) return this.local.start(token, executorClass, ctx);
    this.tokens.push(token);
    this.held.add(`attack-${token}`);
    return { id: `attack-${token}` };
  }
  async poll(handle: ExecutorHandle): Promise<ExecutorStatus> {
    if (!handle.id.startsWith('attack-')) return this.local.poll(handle);
    return this.held.has(handle.id) ? { state: 'running' } : { state: 'exited', exitCode: 0 };
  }
  async kill(handle: ExecutorHandle): Promise<void> {
    if (!handle.id.startsWith('attack-')) return this.local.kill(handle);
    this.held.delete(handle.id);
  }
  async close(): Promise<void> {
    await this.local.close?.();
  }
}

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
function settledMemory(): { rss: number; heap: number } {
  gc();
  gc();
  return { rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed };
}

/** A raw socket that counts GenericError replies and notes its close code. */
class RawPeer {
  genericErrors = 0;
  other: string[] = [];
  closeCode: number | null = null;
  private readonly closed: Promise<void>;
  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const text = data.toString();
      if (text.includes('"GenericError"')) this.genericErrors += 1;
      else this.other.push(text.slice(0, 200));
    });
    this.closed = new Promise((resolve) => socket.once('close', (code) => ((this.closeCode = code), resolve())));
    socket.on('error', () => undefined); // a refused socket's write errors are expected here
  }
  static async open(url: string): Promise<RawPeer> {
    const socket = new WebSocket(url, { maxPayload: MAX_FRAME * 2 });
    const peer = new RawPeer(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return peer;
  }
  send(frame: BadFrame): Promise<void> {
    return new Promise((resolve) => this.socket.send(frame.data, { binary: frame.binary }, () => resolve()));
  }
  /** Waits until `count` GenericErrors arrived or the socket closed. */
  async settle(count: number, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.genericErrors < count && this.closeCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }
  async close(): Promise<void> {
    if (this.closeCode === null) this.socket.close(1000);
    await this.closed;
  }
  whenClosed(timeoutMs = 10_000): Promise<void> {
    return Promise.race([
      this.closed,
      new Promise<void>((_, reject) => setTimeout(() => reject(new Error('socket not closed')), timeoutMs)),
    ]);
  }
}

describe('a miner under 10,000 bad frames', () => {
  let env: TestMiner;
  let manager: TokenCapturingManager;

  beforeAll(async () => {
    env = await startTestMiner({
      dialect: 'sqlite',
      runner: 'process',
      processImages: { [testImage()]: ['env'] },
      // Frames before the auth are held unread and the socket is closed at the auth timeout.
      miner: { validatorAuthTimeoutSeconds: 3 },
      manager: (logger: Logger) =>
        (manager = new TokenCapturingManager(
          new LocalExecutorManager({ executorClass: TEST_CLASS, executors: 1, killGraceMs: 3_000, logger }),
        )),
    });
  });
  afterAll(async () => {
    await env?.close();
  });

  it('answers each with GenericError or closes only that socket, keeps serving, finishes the other job and gives the memory back', async () => {
    const TOTAL = 10_000;
    const frames = badFrames(TOTAL, 0x5eed);
    const validatorUrl = (hotkey: string) => `${env.url.replace(/^http/, 'ws')}/v0.1/validator_interface/${hotkey}`;
    const executorUrl = (token: string) => `${env.url.replace(/^http/, 'ws')}/v0.1/executor_interface/${token}`;

    // Another validator's job, in flight on a real executor process during the whole flood.
    const honest = await TestValidator.connect({ url: env.url, validator: env.validatorB, minerHotkey: env.minerHotkey.ss58 });
    await honest.expect('V0ExecutorManifestRequest');
    const { jobUuid: honestJob } = await honest.initialJobRequest({
      executor_class: TEST_CLASS,
      docker_image: testImage(),
      executor_timing: TIMING,
    });
    await honest.expect('V0AcceptJobRequest', honestJob);
    await honest.acceptedReceipt(honestJob, 120);
    await honest.expect('V0ExecutorReadyRequest', honestJob, 30_000);
    await honest.jobRequest({
      job_uuid: honestJob,
      executor_class: TEST_CLASS,
      docker_image: testImage(),
      docker_run_options_preset: 'none',
      docker_run_cmd: ['sh', '-c', 'sleep 4; echo survived'],
      env: {},
    });

    const before = settledMemory();
    const floodStarted = Date.now();

    // 1. Validator endpoint, before auth: 40 sockets, 100 frames each (under the per-socket pre-auth caps).
    const preAuthPeers = await Promise.all(Array.from({ length: 40 }, () => RawPeer.open(validatorUrl(env.validatorA.ss58))));
    await Promise.all(
      preAuthPeers.map(async (peer) => {
        for (const frame of take(frames, 100)) await peer.send(frame);
      }),
    );
    await Promise.all(preAuthPeers.map((peer) => peer.settle(100)));
    // Before the auth only a frame that looks like the auth message is parsed (and answered when
    // bad); the rest wait unread, and the socket is closed at the auth timeout.
    for (const peer of preAuthPeers)
      expect(
        peer.closeCode !== null && peer.genericErrors <= 100,
        `pre-auth socket: ${peer.genericErrors} replies, close ${peer.closeCode}`,
      ).toBe(true);
    // Each pre-auth socket's last reply is the auth-timeout error, which answers no frame.
    const preAuthAnswered = preAuthPeers.reduce((n, p) => n + p.genericErrors, 0) - preAuthPeers.length;
    await Promise.all(preAuthPeers.map((peer) => peer.close()));

    // 2. Validator endpoint, after auth: one authenticated socket takes 4,000 frames, each answered.
    const attacker = await RawPeer.open(validatorUrl(env.validatorA.ss58));
    attacker.socket.send(encodeMessage(createValidatorAuth(env.validatorA, env.minerHotkey.ss58)));
    const POST_AUTH = 4_000;
    for (let i = 0; i < POST_AUTH; i++) await attacker.send(take(frames, 1)[0]!);
    await attacker.settle(POST_AUTH);
    expect(attacker.closeCode).toBeNull();
    expect(attacker.genericErrors).toBe(POST_AUTH);
    expect(attacker.other.some((m) => m.includes('V0ExecutorManifestRequest'))).toBe(true);

    // 3. Executor endpoint, before auth: unknown tokens, each refused and closed after its frames.
    const strangers = await Promise.all(Array.from({ length: 50 }, () => RawPeer.open(executorUrl(randomUUID()))));
    await Promise.all(
      strangers.map(async (peer) => {
        for (const frame of take(frames, 10)) if (peer.closeCode === null) await peer.send(frame);
      }),
    );
    await Promise.all(strangers.map((peer) => peer.whenClosed()));
    expect(strangers.every((peer) => peer.genericErrors >= 1)).toBe(true);

    // 4. Executor endpoint, after auth: a job's token (the attacker's own job), then frames, each answered.
    const attackerClient = await TestValidator.connect({ url: env.url, validator: env.validatorA, minerHotkey: env.minerHotkey.ss58 });
    await attackerClient.expect('V0ExecutorManifestRequest');
    const { jobUuid: attackJob } = await attackerClient.initialJobRequest({
      executor_class: ATTACK_CLASS,
      docker_image: testImage(),
      executor_timing: TIMING,
    });
    await attackerClient.expect('V0AcceptJobRequest', attackJob);
    const fakeExecutor = await RawPeer.open(executorUrl(manager.tokens.at(-1)!));
    const POST_AUTH_EXECUTOR = TOTAL - 4_000 - POST_AUTH - 500 - 2;
    for (let i = 0; i < POST_AUTH_EXECUTOR; i++) await fakeExecutor.send(take(frames, 1)[0]!);
    await fakeExecutor.settle(POST_AUTH_EXECUTOR);
    expect(fakeExecutor.closeCode).toBeNull();
    expect(fakeExecutor.genericErrors).toBe(POST_AUTH_EXECUTOR);
    expect(fakeExecutor.other.some((m) => m.includes('V0InitialJobRequest'))).toBe(true);

    // 5. Oversized frames (over the 50 MiB frame cap): that socket alone is closed (1009).
    const bystander = await RawPeer.open(validatorUrl(env.validatorA.ss58));
    bystander.socket.send(encodeMessage(createValidatorAuth(env.validatorA, env.minerHotkey.ss58)));
    // One at the validator endpoint, one at the executor's (the last two frames).
    for (const peer of [await RawPeer.open(validatorUrl(env.validatorA.ss58)), fakeExecutor]) {
      const [frame] = take(frames, 1);
      expect(frame?.kind).toBe('oversized');
      await peer.send(frame!);
      await peer.whenClosed();
      expect(peer.closeCode).toBe(1009);
    }
    expect(frames.next().done).toBe(true);
    expect(bystander.closeCode).toBeNull();
    const floodMs = Date.now() - floodStarted;

    // The miner still serves: a new validator authenticates, the bystander is answered, the job finished.
    await bystander.send({ kind: 'truncated', data: '{"message_type":', binary: false });
    await bystander.settle(1);
    expect(bystander.genericErrors).toBe(1);
    let finished = await honest.next(30_000);
    while (finished.message_type === 'V0VolumesReadyRequest' || finished.message_type === 'V0ExecutionDoneRequest')
      finished = await honest.next(30_000);
    expect(finished).toMatchObject({ message_type: 'V0JobFinishedRequest', job_uuid: honestJob });
    expect(finished.message_type === 'V0JobFinishedRequest' && finished.docker_process_stdout).toContain('survived');
    const newcomer = await TestValidator.connect({ url: env.url, validator: env.validatorB, minerHotkey: env.minerHotkey.ss58 });
    expect((await newcomer.expect('V0ExecutorManifestRequest')).manifest).toMatchObject({ [TEST_CLASS]: 1 });

    const metrics = await (await fetch(`${env.url}/metrics`)).text();
    const counted = metricValue(metrics, 'horde_miner_bad_frames_total', { peer: 'validator' });
    expect(counted).toBeGreaterThanOrEqual(preAuthAnswered + POST_AUTH + 1);
    expect(metricValue(metrics, 'horde_miner_bad_frames_total', { peer: 'executor' })).toBe(POST_AUTH_EXECUTOR);
    expect(metricValue(metrics, 'horde_miner_executor_connections_refused_total', {})).toBe(strangers.length);

    for (const client of [honest, attackerClient, newcomer]) await client.close();
    await Promise.all([attacker.close(), bystander.close(), fakeExecutor.close()]);
    const after = settledMemory();
    const MiB = 1024 * 1024;
    console.log(
      `[faults] ${TOTAL} bad frames in ${floodMs} ms; memory after GC: heap ${((after.heap - before.heap) / MiB).toFixed(1)} MiB, ` +
        `RSS ${((after.rss - before.rss) / MiB).toFixed(1)} MiB over the baseline (${(before.rss / MiB).toFixed(0)} MiB)`,
    );
    // Near the baseline: the flood (two 50 MiB frames among it) left nothing behind on the heap,
    // and the process gave most of its peak back.
    expect(after.heap - before.heap).toBeLessThan(32 * MiB);
    expect(after.rss - before.rss).toBeLessThan(160 * MiB);
  }, 300_000); // ~12 s on an idle 2-core machine; minutes when eight test suites share it
});
