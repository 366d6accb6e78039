/**
 * What goes wrong, end to end: jobs that run too long, executors that die, a busy miner, images
 * that do not exist, jobs that try the network, executors that never start. Real miner, real
 * `horde executor` processes, the test dockerd; on SQLite and on PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import WebSocket from 'ws';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ExecutorHandle, ExecutorStartContext } from '../../core/src/contracts/index.js';
import { verifyReceipt } from '../../core/src/protocol/receipts.js';
import { LocalExecutorManager } from '../../executor-managers/local/src/local-executor-manager.js';
import { docker, testImage } from '../support/services.js';
import { startTestMiner, TEST_CLASS, type TestMiner } from '../support/miner-harness.js';
import { TestValidator } from '../support/test-validator.js';

const TIMING = {
  allowed_leeway: 5,
  download_time_limit: 10,
  execution_time_limit: 20,
  upload_time_limit: 10,
  streaming_start_time_limit: 5,
};

/** A local manager that remembers the executors it started, so a test can kill one from outside. */
class RecordingManager extends LocalExecutorManager {
  readonly started: ExecutorHandle[] = [];
  override async start(token: string, executorClass: string, ctx: ExecutorStartContext): Promise<ExecutorHandle> {
    const handle = await super.start(token, executorClass, ctx);
    this.started.push(handle);
    return handle;
  }
}

/** Waits until the miner holds no executor (the previous test's agent has exited). */
async function waitIdle(env: TestMiner, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const health = (await (await fetch(`${env.url}/healthz`)).json()) as { executors: Record<string, { used: number }> };
    if (Object.values(health.executors).every((u) => u.used === 0)) return;
    if (Date.now() > deadline) throw new Error(`executors still busy: ${JSON.stringify(health.executors)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function jobContainers(jobUuid: string): Promise<number> {
  const list = await docker().listContainers({ all: true, filters: { label: [`horde.job-uuid=${jobUuid}`] } });
  return list.length;
}

describe.each(['sqlite', 'postgres'] as const)('miner failures (%s store)', (dialect) => {
  let env: TestMiner;
  let manager: RecordingManager;

  beforeAll(async () => {
    env = await startTestMiner({
      dialect,
      runner: 'docker',
      manager: (logger) => (manager = new RecordingManager({ executorClass: TEST_CLASS, executors: 1, killGraceMs: 3_000, logger })),
    });
  });
  afterAll(async () => {
    await env?.close();
  });
  beforeEach(async () => {
    if (env) await waitIdle(env);
  });

  async function connect(validator = env.validatorA): Promise<TestValidator> {
    const client = await TestValidator.connect({ url: env.url, validator, minerHotkey: env.minerHotkey.ss58 });
    await client.expect('V0ExecutorManifestRequest');
    return client;
  }

  /** Initial request → accept → accepted receipt → executor ready. */
  async function startJob(client: TestValidator, timing = TIMING, image = testImage()): Promise<string> {
    const { jobUuid } = await client.initialJobRequest({ executor_class: TEST_CLASS, docker_image: image, executor_timing: timing });
    await client.expect('V0AcceptJobRequest', jobUuid, 7_000);
    await client.acceptedReceipt(jobUuid, 60);
    await client.expect('V0ExecutorReadyRequest', jobUuid, 30_000);
    return jobUuid;
  }

  async function sendJob(client: TestValidator, jobUuid: string, script: string): Promise<void> {
    await client.jobRequest({
      job_uuid: jobUuid,
      executor_class: TEST_CLASS,
      docker_image: testImage(),
      docker_run_options_preset: 'none',
      docker_run_cmd: ['sh', '-c', script],
      env: {},
    });
  }

  it('kills a job that exceeds its execution limit, reports timeout, and leaves no container', async () => {
    const client = await connect();
    // Unused time carries over: the execution deadline is leeway + download + execution = 6 s
    // after the executor got its timing, whatever the download took.
    const jobUuid = await startJob(client, { ...TIMING, allowed_leeway: 1, download_time_limit: 3, execution_time_limit: 2 });
    await sendJob(client, jobUuid, 'echo started; sleep 60');
    await client.expect('V0VolumesReadyRequest', jobUuid);
    const startedAt = Date.now();
    const failed = await client.expect('V0JobFailedRequest', jobUuid, 30_000);
    expect(failed).toMatchObject({ reason: 'timeout', stage: 'execution' });
    expect(failed.docker_process_stdout).toContain('started');
    expect(Date.now() - startedAt).toBeLessThan(10_000); // long before the 60 s sleep would end
    expect(await jobContainers(jobUuid)).toBe(0);
    await client.close();
  }, 60_000);

  it('reports a horde failure within seconds when the executor process is killed mid-job', async () => {
    const client = await connect();
    const jobUuid = await startJob(client);
    await sendJob(client, jobUuid, 'sleep 30');
    await client.expect('V0VolumesReadyRequest', jobUuid);
    const handle = manager.started.at(-1)!;
    const pid = Number(handle.id.replace('local-', ''));
    process.kill(pid, 'SIGKILL');
    const killedAt = Date.now();
    const failure = await client.expect('V0HordeFailedRequest', jobUuid, 10_000);
    expect(failure).toMatchObject({ reason: 'executor_disconnected', reported_by: 'miner' });
    expect(Date.now() - killedAt).toBeLessThan(3_000);
    await client.close();
    // The agent could not remove its container; make sure this test leaves none either.
    for (const c of await docker().listContainers({ all: true, filters: { label: [`horde.job-uuid=${jobUuid}`] } })) {
      // 404: the container went meanwhile (its creation was under way when the agent died).
      await docker()
        .getContainer(c.Id)
        .remove({ force: true })
        .catch((error: { statusCode?: number }) => {
          if (error.statusCode !== 404) throw error;
        });
    }
  }, 60_000);

  it('an executor stopped with SIGTERM mid-job (as a manager kills it) removes its job container', async () => {
    const client = await connect();
    const jobUuid = await startJob(client);
    await sendJob(client, jobUuid, 'sleep 30');
    await client.expect('V0VolumesReadyRequest', jobUuid);
    // The container is up before the agent is stopped.
    const deadline = Date.now() + 10_000;
    while ((await jobContainers(jobUuid)) === 0) {
      if (Date.now() > deadline) throw new Error('the job container never appeared');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const pid = Number(manager.started.at(-1)!.id.replace('local-', ''));
    process.kill(pid, 'SIGTERM');
    const failure = await client.expect('V0HordeFailedRequest', jobUuid, 10_000);
    expect(['executor', 'miner']).toContain(failure.reported_by);
    await client.close();
    const gone = Date.now() + 10_000;
    while ((await jobContainers(jobUuid)) > 0) {
      if (Date.now() > gone) throw new Error('the job container outlived its executor');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, 60_000);

  it('declines a second validator with busy and a valid excuse receipt while the only executor is taken', async () => {
    const first = await connect(env.validatorA);
    const { jobUuid, receipt } = await first.initialJobRequest({
      executor_class: TEST_CLASS,
      docker_image: testImage(),
      executor_timing: TIMING,
    });
    await first.expect('V0AcceptJobRequest', jobUuid, 7_000);

    const second = await connect(env.validatorB);
    const { jobUuid: declinedUuid, receipt: declinedReceipt } = await second.initialJobRequest({
      executor_class: TEST_CLASS,
      docker_image: testImage(),
      executor_timing: TIMING,
    });
    const decline = await second.expect('V0DeclineJobRequest', declinedUuid, 7_000);
    expect(decline.reason).toBe('busy');
    // The first validator's started receipt for the running job is among the excuses, countersigned.
    const excuse = decline.receipts.find((r) => r.payload.job_uuid === jobUuid);
    expect(excuse?.payload).toMatchObject({
      receipt_type: 'JobStartedReceipt',
      validator_hotkey: env.validatorA.ss58,
      executor_class: TEST_CLASS,
      is_organic: true,
    });
    expect(excuse!.validator_signature).toBe(receipt.validator_signature);
    // Every excuse is one a validator accepts: both signatures valid, same class, organic, not the
    // declined job, and holding an executor at the declined request's time: issued before it, and
    // its own ttl not over or its job's accepted receipt (sent along) still covering it.
    const at = Date.parse(declinedReceipt.payload.timestamp);
    const acceptedUntil = new Map(
      decline.receipts
        .filter((r) => r.payload.receipt_type === 'JobAcceptedReceipt')
        .map((r) => [r.payload.job_uuid, Date.parse(r.payload.timestamp) + (r.payload as { ttl: number }).ttl * 1000]),
    );
    for (const r of decline.receipts) {
      expect(await verifyReceipt(r)).toEqual({ ok: true });
      expect(r.payload.miner_hotkey).toBe(env.minerHotkey.ss58);
      expect(r.payload.job_uuid).not.toBe(declinedUuid);
      expect(Date.parse(r.payload.timestamp)).toBeLessThanOrEqual(at);
      if (r.payload.receipt_type === 'JobAcceptedReceipt') continue;
      const p = r.payload as { receipt_type: string; executor_class: string; is_organic: boolean; ttl: number };
      expect(p).toMatchObject({ receipt_type: 'JobStartedReceipt', executor_class: TEST_CLASS, is_organic: true });
      expect(Math.max(Date.parse(r.payload.timestamp) + p.ttl * 1000, acceptedUntil.get(r.payload.job_uuid) ?? 0)).toBeGreaterThanOrEqual(
        at,
      );
    }

    // Let the first job end normally.
    await first.acceptedReceipt(jobUuid, 60);
    await first.expect('V0ExecutorReadyRequest', jobUuid, 30_000);
    await sendJob(first, jobUuid, 'true');
    await first.expect('V0VolumesReadyRequest', jobUuid);
    await first.expect('V0ExecutionDoneRequest', jobUuid, 20_000);
    await first.expect('V0JobFinishedRequest', jobUuid, 20_000);
    await Promise.all([first.close(), second.close()]);
  }, 60_000);

  it('fails clearly when the job image does not exist', async () => {
    const client = await connect();
    const image = `localhost/horde-no-such-image-${randomUUID().slice(0, 8)}:1`;
    const { jobUuid } = await client.initialJobRequest({ executor_class: TEST_CLASS, docker_image: image, executor_timing: TIMING });
    await client.expect('V0AcceptJobRequest', jobUuid, 7_000);
    const failure = await client.expect('V0HordeFailedRequest', jobUuid, 30_000);
    expect(failure.reported_by).toBe('executor');
    expect(failure.message).toContain(image);
    expect(failure.message).toMatch(/Failed to pull docker image/);
    await client.close();
  }, 60_000);

  it('runs jobs with no network: the container has only a loopback interface and reaches nothing', async () => {
    // A server on every interface of this machine; the job tries each of the machine's addresses.
    const hits: string[] = [];
    const server = createServer((socket) => {
      hits.push(String(socket.remoteAddress));
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    const port = (server.address() as AddressInfo).port;
    const addresses = Object.values(networkInterfaces())
      .flat()
      .filter((i) => i && i.family === 'IPv4')
      .map((i) => i!.address);
    try {
      const client = await connect();
      const jobUuid = await startJob(client);
      const script = [
        "echo ifaces: $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ')",
        `for h in ${addresses.join(' ')}; do wget -q -T 2 -O /dev/null http://$h:${port}/ 2>/dev/null; echo "tried $h: $?"; done`,
        'echo done',
      ].join('; ');
      await sendJob(client, jobUuid, script);
      await client.expect('V0VolumesReadyRequest', jobUuid);
      await client.expect('V0ExecutionDoneRequest', jobUuid, 30_000);
      const finished = await client.expect('V0JobFinishedRequest', jobUuid, 20_000);
      expect(finished.docker_process_stdout).toContain('ifaces: lo\n');
      for (const address of addresses) expect(finished.docker_process_stdout).toContain(`tried ${address}`);
      expect(finished.docker_process_stdout).toContain('done');
      expect(hits).toEqual([]); // nothing from the container arrived
      await client.close();
    } finally {
      server.close();
    }
  }, 60_000);

  it('re-attaches a reconnecting validator to its job: executor ready again, then the result', async () => {
    const first = await connect();
    const { jobUuid } = await first.initialJobRequest({ executor_class: TEST_CLASS, docker_image: testImage(), executor_timing: TIMING });
    await first.expect('V0AcceptJobRequest', jobUuid, 7_000);
    await first.close(); // gone before the executor is ready

    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const again = await connect();
    await again.expect('V0ExecutorReadyRequest', jobUuid, 30_000);
    await sendJob(again, jobUuid, 'echo back again');
    await again.expect('V0VolumesReadyRequest', jobUuid);
    await again.expect('V0ExecutionDoneRequest', jobUuid, 20_000);
    const finished = await again.expect('V0JobFinishedRequest', jobUuid, 20_000);
    expect(finished.docker_process_stdout).toContain('back again');
    await again.close();
  }, 60_000);

  it('refuses a token that is used or unknown', async () => {
    const client = await connect();
    const jobUuid = await startJob(client);
    const row = (await env.store.db('miner_jobs').where({ job_uuid: jobUuid }).first('executor_token')) as { executor_token: string };
    for (const token of [row.executor_token, `${jobUuid}-${randomUUID()}`]) {
      const socket = new WebSocket(`${env.url.replace('http', 'ws')}/v0.1/executor_interface/${token}`);
      const reply = await new Promise<string>((resolve, reject) => {
        socket.once('message', (data) => resolve(data.toString()));
        socket.once('error', reject);
      });
      expect(JSON.parse(reply)).toMatchObject({ message_type: 'GenericError' });
      await new Promise((resolve) => socket.once('close', resolve));
    }
    await sendJob(client, jobUuid, 'true');
    await client.expect('V0VolumesReadyRequest', jobUuid);
    await client.expect('V0ExecutionDoneRequest', jobUuid, 20_000);
    await client.expect('V0JobFinishedRequest', jobUuid, 20_000);
    await client.close();
  }, 60_000);
});
