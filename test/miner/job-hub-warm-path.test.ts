/**
 * The warm path of a job through the miner: the job request goes to the executor, and the result
 * to the validator, without waiting for the status write of that step (a store transaction was a
 * large part of a no-op job's time). What must still hold, tested here with a `running` write the
 * store takes its time over: the job's writes land in the order they were made (a late `running`
 * never overwrites `finished`), the executor's slot is released only once the end is recorded,
 * and the miner's drain waits for the writes still on their way (it closes its store after).
 * Real store (SQLite), real executor pool and local executor manager; the validator and executor
 * connections are peers that record what they were sent.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { CLASS, Executor, hubHarness, type HubHarness } from './hub-harness.js';

let harness: HubHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('JobHub warm path', () => {
  it('relays the job request and the result before their writes land, keeps the writes in order, and drains them', async () => {
    // The store takes its time over `running`: held until the test lets it through.
    let letRunningThrough!: () => void;
    const runningHeld = new Promise<void>((resolve) => (letRunningThrough = resolve));
    const writesStarted: string[] = [];
    harness = await hubHarness({
      adjust: (store) => {
        const setStatus = store.jobs.setStatus.bind(store.jobs);
        store.jobs.setStatus = async (jobUuid, status, ...rest) => {
          writesStarted.push(status);
          if (status === 'running') await runningHeld;
          return setStatus(jobUuid, status, ...rest);
        };
      },
    });
    const { hub, pool, peer, db, store } = harness;
    const released: string[] = [];
    const release = pool.release.bind(pool);
    pool.release = (token) => {
      released.push(token);
      release(token);
    };

    const jobUuid = randomUUID();
    await hub.initialJobRequest(peer, harness.minerHotkey, harness.initialRequest(jobUuid));
    const job = hub.activeJobs().find((j) => j.jobUuid === jobUuid)!;
    const executor = new Executor();
    await hub.executorConnected(job, executor, '127.0.0.1');
    await hub.executorMessage(job, { message_type: 'V0ExecutorReadyRequest', job_uuid: jobUuid }, '127.0.0.1');

    // The job request reaches the executor while `running` is still being written; that write
    // starts only once the executor's socket took the request (a write holds SQLite's event loop).
    let handOff!: () => void;
    executor.handOff = new Promise<void>((resolve) => (handOff = resolve));
    const passing = hub.jobRequest(peer, {
      message_type: 'V0JobRequest',
      job_uuid: jobUuid,
      executor_class: CLASS,
      docker_image: 'busybox',
      docker_run_options_preset: 'none',
      docker_run_cmd: ['true'],
      env: {},
    });
    await expect.poll(() => executor.sent).toEqual(['V0InitialJobRequest', 'V0JobRequest']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(writesStarted).not.toContain('running');
    handOff();
    await expect.poll(() => writesStarted).toContain('running');

    // The result reaches the validator before its write, which waits behind `running`; the slot
    // is released only once the end is recorded.
    const ending = hub.executorMessage(
      job,
      { message_type: 'V0JobFinishedRequest', job_uuid: jobUuid, docker_process_stdout: '', docker_process_stderr: '' },
      '127.0.0.1',
    );
    await expect.poll(() => peer.sent.map((m) => m.message_type)).toContain('V0JobFinishedRequest');
    expect(released).toEqual([]);
    const row = () => store.jobs.get(jobUuid);
    expect((await row())?.status).toBe('waiting_for_payload');

    // The miner stopping now waits for both writes.
    let drained = false;
    const draining = hub.drain().then(() => (drained = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(drained).toBe(false);

    letRunningThrough();
    await draining;
    expect(await passing).toBeNull();
    await ending;
    expect((await row())?.status).toBe('finished');
    const history = (await db.db('miner_job_status_history').where({ job_uuid: jobUuid }).orderBy('id').select('status')) as Array<{
      status: string;
    }>;
    expect(history.map((h) => h.status)).toEqual(['waiting_for_executor', 'waiting_for_payload', 'running', 'finished']);
    expect(released).toEqual([job.token]);
  });
});
