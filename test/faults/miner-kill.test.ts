/**
 * Executors never outlive their miner (#11 hole 4), against a real `horde miner` process with the
 * docker runner: kill -9 of the miner while a job's container runs must take the executor agent
 * and the container down with it (on a GPU class, the restarted miner would otherwise hand the
 * same GPU to a second job), and the restarted miner reports the slot free only with nothing left.
 * Then a real `horde validator`'s batch on a miner with three executors, killed while several
 * run: every job of the batch ends final in the validator's store, within the job's limits, the
 * receipts served before the kill are served byte for byte after the restart, no process the
 * miner started outlives it, and the next cycle's batch completes on the restarted miner.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHotkey, type Hotkey } from '../../core/src/keys/index.js';
import { OWNER_LABELS } from '../../core/src/executor/runners/docker.js';
import { receiptPageAt } from '../../core/src/miner/receipts/pages.js';
import { join } from 'node:path';
import type { Store } from '../../core/src/contracts/index.js';
import { ACTIVE_JOB_STATUSES } from '../../core/src/miner/store/jobs.js';
import { openStore } from '../../core/src/store/index.js';
import { docker, testImage } from '../support/services.js';
import type { TestValidator } from '../support/test-validator.js';
import { connectAsValidator, sendShellJob } from './job-steps.js';
import { CLI_MINER_CLASS, CliMiner } from './cli-miner.js';
import { CliSubnet } from './cli-subnet.js';
import { minerHealth, waitForIdleExecutors } from './miner-health.js';
import { descendants, jobContainers, processAlive, waitUntil } from './processes.js';

const IMAGE = testImage();
const TIMING = {
  allowed_leeway: 5,
  download_time_limit: 10,
  execution_time_limit: 90,
  upload_time_limit: 10,
  streaming_start_time_limit: 5,
};

describe('kill -9 of the miner', () => {
  let miner: CliMiner;
  let validator: Hotkey;
  let minerHotkey: Hotkey;
  const engine = docker();

  beforeAll(async () => {
    [validator, minerHotkey] = await Promise.all([loadHotkey({ uri: '//Bob' }), loadHotkey({ uri: '//Alice' })]);
    miner = await CliMiner.start({ executor: '{ runner: docker, machineSpecs: false, startupChecks: false }' });
  }, 60_000);
  afterAll(async () => {
    await miner?.close();
  });

  async function startJob(script: string): Promise<{ client: TestValidator; jobUuid: string }> {
    const client = await connectAsValidator({ url: miner.url, validator, minerHotkey: minerHotkey.ss58 });
    const jobUuid = await sendShellJob(client, { executorClass: CLI_MINER_CLASS, image: IMAGE, timing: TIMING, script });
    await client.expect('V0VolumesReadyRequest', jobUuid, 20_000);
    return { client, jobUuid };
  }

  it('leaves no executor agent and no container running, and the restarted miner serves the slot again', async () => {
    const { client, jobUuid } = await startJob('sleep 90');
    let running: Awaited<ReturnType<typeof jobContainers>> = [];
    await waitUntil(
      'the job container runs',
      async () => (running = await jobContainers(engine, jobUuid)).some((c) => c.State === 'running'),
      20_000,
    );
    const agentPid = Number(running[0]!.Labels[OWNER_LABELS.pid]);
    expect(processAlive(agentPid)).toBe(true);
    // The job's started receipt is on the current receipt page before the kill.
    const page = receiptPageAt(Date.now());
    const pageUrl = `${miner.url}/receipts/${page}.jsonl`;
    const before = Buffer.from(await (await fetch(pageUrl)).arrayBuffer());
    expect(before.toString()).toContain(jobUuid);

    await miner.kill9();
    await client.closedByPeer(5_000);
    // The agent lost its miner: it stops the job, removes the container and exits.
    await waitUntil('the executor agent is gone', () => !processAlive(agentPid), 20_000);
    await waitUntil('the job container is gone', async () => (await jobContainers(engine, jobUuid)).length === 0, 20_000);

    await miner.launch();
    expect((await minerHealth(miner.url)).executors[CLI_MINER_CLASS]).toEqual({ capacity: 1, used: 0, draining: 0 });
    expect(processAlive(agentPid)).toBe(false);
    expect(await jobContainers(engine, jobUuid)).toEqual([]);
    // Receipts stored before the kill are served byte for byte as they were.
    const after = Buffer.from(await (await fetch(pageUrl)).arrayBuffer());
    expect(after.subarray(0, before.length).equals(before)).toBe(true);

    // The slot takes a new job to the end.
    const next = await startJob('echo after the restart');
    await next.client.expect('V0ExecutionDoneRequest', next.jobUuid, 30_000);
    expect((await next.client.expect('V0JobFinishedRequest', next.jobUuid, 30_000)).docker_process_stdout).toBe('after the restart\n');
    await next.client.close();
  }, 120_000);
});

describe("kill -9 of the miner in the middle of a validator's batch", () => {
  // 250 ms blocks, 20 s cycles: a batch per cycle; the validator's limits are its config's
  // (reservation 7 s, startup 10 s, response slack 5 s), so a job whose miner died ends within them.
  const CHAIN = { blockTimeMs: 250, tempo: 59, revealPeriodEpochs: 1, cycleLengthBlocks: 80 };
  let subnet: CliSubnet;
  let minerStore: Store;
  let validatorStore: Store;

  beforeAll(async () => {
    subnet = await CliSubnet.start({ chain: CHAIN, executors: 3 });
    validatorStore = await openStore({ client: 'sqlite', filename: join(subnet.dir, 'validator-data', 'horde.sqlite') });
  }, 90_000);
  afterAll(async () => {
    await minerStore?.close();
    await validatorStore?.close();
    await subnet?.close();
  });

  it('ends every job of the batch final, keeps the receipts and leaves no process behind', async () => {
    const { miner } = subnet;
    await waitUntil(
      'several executors are busy',
      async () => (await minerHealth(miner.url)).executors['always_on.test']!.used >= 2,
      90_000,
    );
    const started = descendants(miner.pid);
    minerStore = await openStore({ client: 'sqlite', filename: subnet.minerStoreFile });
    const inFlight: string[] = (
      await minerStore
        .db('miner_jobs')
        .whereIn('status', ACTIVE_JOB_STATUSES as string[])
        .select('job_uuid')
    ).map((row: { job_uuid: string }) => row.job_uuid);
    await minerStore.close();
    const page = receiptPageAt(Date.now());
    const pageUrl = `${miner.url}/receipts/${page}.jsonl`;
    const before = Buffer.from(await (await fetch(pageUrl)).arrayBuffer());
    expect(inFlight.length).toBeGreaterThanOrEqual(2);
    for (const jobUuid of inFlight) expect(before.toString()).toContain(jobUuid);

    await miner.kill9();
    const killedAt = Date.now();
    // The validator's side: each job of the batch ends final and is stored, without the miner.
    await waitUntil(
      'the validator stored every in-flight job final',
      async () => (await validatorStore.db('validator_jobs').whereIn('job_uuid', inFlight).select('job_uuid')).length === inFlight.length,
      60_000,
    );
    const storedMs = Date.now() - killedAt;
    const outcomes: Array<{ status: string }> = await validatorStore.db('validator_jobs').whereIn('job_uuid', inFlight).select('status');
    for (const outcome of outcomes) expect(['completed', 'failed', 'rejected', 'horde_failed']).toContain(outcome.status);
    // Nothing the miner started (executor agents, job processes) outlives it.
    await waitUntil('every process the miner started is gone', () => started.every((pid) => !processAlive(pid)), 30_000);
    const goneMs = Date.now() - killedAt;

    await miner.launch();
    await waitForIdleExecutors(miner.url, 30_000);
    const after = Buffer.from(await (await fetch(pageUrl)).arrayBuffer());
    expect(after.subarray(0, before.length).equals(before)).toBe(true);
    minerStore = await openStore({ client: 'sqlite', filename: subnet.minerStoreFile });
    expect(
      await minerStore
        .db('miner_jobs')
        .whereIn('job_uuid', inFlight)
        .whereIn('status', ACTIVE_JOB_STATUSES as string[]),
    ).toEqual([]);

    // The next batch runs on the restarted miner to the end.
    const restartedAt = Date.now();
    await waitUntil(
      'a job sent after the restart completed',
      async () =>
        (await validatorStore.db('validator_jobs').where('created_at', '>', restartedAt).andWhere({ status: 'completed' }).first()) !==
        undefined,
      90_000,
    );
    console.log(
      `miner kill -9 mid-batch: ${inFlight.length} jobs in flight (${started.length} processes under the miner); all stored final by the validator ${storedMs} ms after the kill ` +
        `(${outcomes.map((o) => o.status).join(', ')}); every miner-started process gone after ${goneMs} ms; receipts page ${before.length} bytes identical; next batch completed`,
    );
  }, 240_000);
});
