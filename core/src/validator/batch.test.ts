import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { GeneratedJob, HardwareClass, JobGenerator, Store } from '../contracts/index.js';
import type { Hotkey } from '../keys/index.js';
import { SystemClock } from '../time/clock.js';
import { openStore } from '../store/index.js';
import { signedStartedReceipt, SimulatedMiner, testHotkey } from '../testkit/index.js';
import { runBatch, type BatchSettings } from './batch.js';
import { BatchAbortedError } from './errors.js';
import { cycleByIndex } from './cycles.js';
import type { MinerTarget } from './miner-client.js';
import { ValidatorStore } from './store.js';

const logger = pino({ level: 'silent' });
const clock = new SystemClock();

function hardwareClass(id: string, spinUpSeconds: number): HardwareClass {
  return {
    id,
    description: id,
    spinUpSeconds,
    shortCode: 'T',
    resources: {},
    dockerPreset: 'none',
    proof: { jobGenerators: ['echo'], maxJobSeconds: 10 },
  };
}
const FAST = hardwareClass('always_on.test', 0);
const SLOW = hardwareClass('always_on.slow', 1);

/** A generator whose answer is a secret sent on the command line: the executor must print it back. */
const echoGenerator: JobGenerator = {
  name: 'echo',
  supports: (c) => c.id === FAST.id || c.id === SLOW.id,
  async generate(request): Promise<GeneratedJob> {
    const secret = randomBytes(8).toString('hex');
    return {
      description: 'echo',
      spec: {
        executorClass: request.executorClass.id,
        image: 'echo',
        command: ['--key', secret],
        env: {},
        dockerRunOptionsPreset: 'none',
        timing: {
          allowedLeewaySeconds: 1,
          downloadTimeLimitSeconds: 1,
          executionTimeLimitSeconds: 2,
          uploadTimeLimitSeconds: 1,
          streamingStartTimeLimitSeconds: 0,
        },
      },
      verify: async (result) => ({
        correct: result.stdout.trim() === secret,
        inTime: result.timeTookMs < 2000,
        details: result.stdout.trim() === secret ? 'echoed' : `printed ${result.stdout.trim()}`,
      }),
    };
  },
};

const settings: BatchSettings = {
  limits: { reservationMs: 2000, startupMs: 2000, slackMs: 1000 },
  manifestTimeoutMs: 2000,
  mainHotkeyTimeoutMs: 1000,
  connectConcurrency: 8,
  generateConcurrency: 8,
  verifyConcurrency: 4,
  maxExecutorsPerClass: 0,
};

let validator: Hotkey;
let keys: Record<'honest' | 'cheater' | 'busy' | 'slow' | 'rich', Hotkey>;
let store: Store;
const miners: SimulatedMiner[] = [];

beforeAll(async () => {
  validator = await testHotkey('//BatchValidator');
  const [honest, cheater, busy, slow, rich] = await Promise.all(['//Honest', '//Cheater', '//Busy', '//Slow', '//Rich'].map(testHotkey));
  keys = { honest: honest!, cheater: cheater!, busy: busy!, slow: slow!, rich: rich! };
  store = await openStore({ client: 'sqlite', filename: ':memory:' });
});
afterEach(async () => {
  for (const miner of miners.splice(0)) await miner.close();
});
afterAll(async () => {
  await store.close();
});

const target = (miner: SimulatedMiner, coldkey: string): MinerTarget => ({
  hotkey: miner.hotkey,
  coldkey,
  uid: 1,
  host: '127.0.0.1',
  port: miner.port,
});

describe('runBatch over real websockets', () => {
  it('runs one job per declared executor, verifies the answers, sends receipts and stores every outcome', async () => {
    const honest = await SimulatedMiner.start({ hotkey: keys.honest, manifest: { [FAST.id]: 2 } });
    const cheater = await SimulatedMiner.start({
      hotkey: keys.cheater,
      manifest: { [FAST.id]: 1 },
      execute: () => ({ stdout: 'deadbeef\n' }),
    });
    const busy = await SimulatedMiner.start({
      hotkey: keys.busy,
      manifest: { [FAST.id]: 1 },
      mainHotkey: keys.honest.ss58,
      declineWith: () => [
        signedStartedReceipt(keys.rich, { minerHotkey: keys.busy.ss58, executorClass: FAST.id, timestampMs: Date.now() - 1000 }),
      ],
    });
    miners.push(honest, cheater, busy);
    const unreachable: MinerTarget = { hotkey: '5Unreachable', coldkey: 'c-x', uid: 9, host: '127.0.0.1', port: 1 };
    const validatorStore = new ValidatorStore(store, validator.ss58);
    const finished: string[] = [];

    const result = await runBatch(
      cycleByIndex(3, 100),
      [target(honest, 'c-honest'), target(cheater, 'c-cheater'), target(busy, 'c-busy'), unreachable],
      {
        validator,
        clock,
        logger,
        store: validatorStore,
        generators: [echoGenerator],
        hardwareClasses: [FAST],
        settings,
        hooks: { onJobFinished: (record) => finished.push(record.minerHotkey) },
      },
    );

    expect(result).toMatchObject({ cycle: 3, miners: 3, jobs: 4, outcomes: { completed: 3, rejected: 1 } });
    expect(finished).toHaveLength(4);
    const byMiner = (hotkey: string) => result.records.filter((record) => record.minerHotkey === hotkey);
    expect(byMiner(keys.honest.ss58).map((r) => [r.status, r.correct, r.inTime])).toEqual([
      ['completed', true, true],
      ['completed', true, true],
    ]);
    expect(byMiner(keys.cheater.ss58)[0]).toMatchObject({ status: 'completed', correct: false, details: 'printed deadbeef' });
    const declined = byMiner(keys.busy.ss58)[0]!;
    expect(declined).toMatchObject({ status: 'rejected', accepted: false, rejectionReason: 'busy' });
    expect(declined.rejectionReceipts).toHaveLength(1);
    expect(declined.checkedAt).toBeGreaterThan(0);

    // The miners saw validly signed receipts: started for every job, accepted and finished for taken ones.
    // (The last receipts are still in flight when runBatch returns.)
    await vi.waitFor(() => expect(honest.receipts).toEqual({ started: 2, accepted: 2, finished: 2, badSignatures: 0 }));
    expect(busy.receipts).toEqual({ started: 1, accepted: 0, finished: 0, badSignatures: 0 });

    // Everything scoring needs is in the store.
    const outcomes = await validatorStore.jobOutcomes(3);
    expect(outcomes).toHaveLength(4);
    expect(outcomes.find((o) => o.minerHotkey === keys.busy.ss58)?.rejection?.receipts).toHaveLength(1);
    expect(await validatorStore.manifests(3)).toEqual({
      [keys.honest.ss58]: { [FAST.id]: 2 },
      [keys.cheater.ss58]: { [FAST.id]: 1 },
      [keys.busy.ss58]: { [FAST.id]: 1 },
    });
    // Every job's status transitions are stored with it, in order, timed, ending in its outcome.
    const honestJob = byMiner(keys.honest.ss58)[0]!;
    const history = await validatorStore.jobHistory(honestJob.jobUuid);
    expect(history.map((t) => t.status)).toEqual(['sent', 'accepted', 'executor_ready', 'job_sent', 'result_received', 'completed']);
    expect(history.at(-1)!.detail).toBe('correct');
    for (let i = 1; i < history.length; i += 1) expect(history[i]!.at).toBeGreaterThanOrEqual(history[i - 1]!.at);
    expect(history[0]!.at).toBeGreaterThan(Date.now() - 60_000);
    expect((await validatorStore.jobHistory(byMiner(keys.cheater.ss58)[0]!.jobUuid)).at(-1)).toMatchObject({
      status: 'completed',
      detail: 'wrong',
    });
    expect((await validatorStore.jobHistory(declined.jobUuid)).map((t) => [t.status, t.detail])).toEqual([
      ['sent', null],
      ['rejected', 'busy'],
    ]);
    const mains = await validatorStore.mainHotkeys(3);
    expect(mains.get('c-honest')).toBe(keys.honest.ss58);
    expect(mains.get('c-busy')).toBe(keys.honest.ss58); // whatever the miner says is recorded
  });

  it('staggers initial requests by spin-up time and sends every job request only after all are ready', async () => {
    const miner = await SimulatedMiner.start({ hotkey: keys.slow, manifest: { [FAST.id]: 2, [SLOW.id]: 2 } });
    miners.push(miner);
    const result = await runBatch(cycleByIndex(4, 100), [target(miner, 'c-slow')], {
      validator,
      clock,
      logger,
      store: new ValidatorStore(store, validator.ss58),
      generators: [echoGenerator],
      hardwareClasses: [FAST, SLOW],
      settings,
    });
    expect(result.outcomes).toEqual({ completed: 4 });
    const initial = (executorClass: string) =>
      miner.timeline.filter((e) => e.messageType === 'V0InitialJobRequest' && e.executorClass === executorClass).map((e) => e.at);
    // The 1 s class goes first; the 0 s class about 1 s later.
    expect(Math.min(...initial(FAST.id)) - Math.max(...initial(SLOW.id))).toBeGreaterThanOrEqual(900);
    const lastInitial = Math.max(...initial(FAST.id), ...initial(SLOW.id));
    const jobRequests = miner.timeline.filter((e) => e.messageType === 'V0JobRequest').map((e) => e.at);
    expect(jobRequests).toHaveLength(4);
    expect(Math.min(...jobRequests)).toBeGreaterThanOrEqual(lastInitial);
    expect(result.overheadMs).toBeLessThan(result.durationMs);
  });

  it('takes the manifest from elsewhere (the on-chain commitment) when one is given', async () => {
    const miner = await SimulatedMiner.start({ hotkey: keys.honest, manifest: { [FAST.id]: 2 } });
    miners.push(miner);
    const asked: string[] = [];
    const result = await runBatch(cycleByIndex(6, 100), [target(miner, 'c')], {
      validator,
      clock,
      logger,
      store: new ValidatorStore(store, validator.ss58),
      generators: [echoGenerator],
      hardwareClasses: [FAST],
      settings,
      manifestOf: async (t) => {
        asked.push(t.hotkey);
        return { [FAST.id]: 1 };
      },
    });
    expect(asked).toEqual([keys.honest.ss58]);
    expect(result.jobs).toBe(1);
    expect(await new ValidatorStore(store, validator.ss58).manifests(6)).toEqual({ [keys.honest.ss58]: { [FAST.id]: 1 } });
  });

  it('gives up on a miner that never reports its executor ready, and on one that never answers the job', async () => {
    const neverReady = await SimulatedMiner.start({ hotkey: keys.honest, manifest: { [FAST.id]: 1 }, readyDelayMs: 60_000 });
    const neverDone = await SimulatedMiner.start({ hotkey: keys.cheater, manifest: { [FAST.id]: 1 }, executionDelayMs: 60_000 });
    miners.push(neverReady, neverDone);
    const started = Date.now();
    const result = await runBatch(cycleByIndex(5, 100), [target(neverReady, 'a'), target(neverDone, 'b')], {
      validator,
      clock,
      logger,
      store: new ValidatorStore(store, validator.ss58),
      generators: [echoGenerator],
      hardwareClasses: [FAST],
      settings,
    });
    expect(result.outcomes).toEqual({ horde_failed: 2 });
    expect(result.records.map((r) => r.details).sort()).toEqual(
      [
        expect.stringMatching(/^waiting for the executor: no executor ready/),
        expect.stringMatching(/^waiting for the result: no job result/),
      ].sort((a, b) => String(a).localeCompare(String(b))),
    );
    expect(result.records.map((r) => [r.failure?.source, r.failure?.reason, r.failure?.stage]).sort()).toEqual([
      ['validator', 'timeout', 'waiting for the executor'],
      ['validator', 'timeout', 'waiting for the result'],
    ]);
    // The history says how far each got: one never became ready, the other never sent a result.
    const statuses = result.records.map((r) => (r.history ?? []).map((t) => t.status).join(' > ')).sort();
    expect(statuses).toEqual(['sent > accepted > executor_ready > job_sent > horde_failed', 'sent > accepted > horde_failed']);
    // Bounded by the startup limit, then the job's limits plus slack: about 2 s + 6 s.
    expect(Date.now() - started).toBeLessThan(12_000);
  }, 20_000);

  it("stores the executor's failure reason and stage for a failed job", async () => {
    const failing = await SimulatedMiner.start({ hotkey: keys.slow, manifest: { [FAST.id]: 1 }, execute: () => ({ fail: true }) });
    miners.push(failing);
    const validatorStore = new ValidatorStore(store, validator.ss58);
    const result = await runBatch(cycleByIndex(11, 100), [target(failing, 'c-failing')], {
      validator,
      clock,
      logger,
      store: validatorStore,
      generators: [echoGenerator],
      hardwareClasses: [FAST],
      settings,
    });
    expect(result.outcomes).toEqual({ failed: 1 });
    const failed = await validatorStore.failedJobs({ cycle: 11 });
    expect(failed.map((row) => [row.minerHotkey, row.status, row.failure])).toEqual([
      [keys.slow.ss58, 'failed', { source: 'executor', reason: 'nonzero_return_code', stage: 'execution', message: 'exit 1' }],
    ]);
    const history = await validatorStore.jobHistory(failed[0]!.jobUuid);
    expect(history.at(-1)).toMatchObject({ status: 'failed', detail: 'nonzero_return_code · execution (by the executor)' });
    expect(history.map((t) => t.status)).toContain('job_sent');
  });
});

describe('runBatch when stopped (the validator shuts down)', () => {
  it('ends every open job at once, drops the connections, stores no outcome and rejects with BatchAbortedError', async () => {
    // The executor never answers; the job's limits plus slack are 5 s + 120 s.
    const miner = await SimulatedMiner.start({ hotkey: keys.honest, manifest: { [FAST.id]: 16 }, executionDelayMs: 600_000 });
    // Sixteen jobs follow one stop signal: no "possible EventTarget memory leak" warning for that.
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    miners.push(miner);
    const validatorStore = new ValidatorStore(store, validator.ss58);
    const stop = new AbortController();
    const finished: string[] = [];
    const batch = runBatch(cycleByIndex(7, 100), [target(miner, 'c')], {
      validator,
      clock,
      logger,
      store: validatorStore,
      generators: [echoGenerator],
      hardwareClasses: [FAST],
      settings: { ...settings, limits: { ...settings.limits, slackMs: 120_000 } },
      hooks: { onJobFinished: (record) => finished.push(record.jobUuid) },
      signal: stop.signal,
    });
    batch.catch(() => undefined);
    await vi.waitFor(() => expect(miner.jobs).toHaveLength(16), { timeout: 5000 });

    const stoppedAt = Date.now();
    stop.abort();
    await expect(batch).rejects.toBeInstanceOf(BatchAbortedError);
    expect(Date.now() - stoppedAt).toBeLessThan(2000);
    await vi.waitFor(() => expect(miner.openConnections).toBe(0), { timeout: 2000 });
    // Not the miners' fault: nothing is stored for scoring, nobody is told a job finished, no finished receipt.
    expect(await validatorStore.jobOutcomes(7)).toEqual([]);
    expect(finished).toEqual([]);
    expect(miner.receipts.finished).toBe(0);
    process.off('warning', onWarning);
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });

  it('gives up connecting to a miner that never answers the handshake', async () => {
    // A TCP listener that accepts and then says nothing: the websocket upgrade never completes.
    const { createServer } = await import('node:net');
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as { port: number }).port;
      const stop = new AbortController();
      const batch = runBatch(cycleByIndex(8, 100), [{ hotkey: keys.slow.ss58, coldkey: 'c', uid: 1, host: '127.0.0.1', port }], {
        validator,
        clock,
        logger,
        store: new ValidatorStore(store, validator.ss58),
        generators: [echoGenerator],
        hardwareClasses: [FAST],
        settings: { ...settings, manifestTimeoutMs: 60_000 },
        signal: stop.signal,
      });
      batch.catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const stoppedAt = Date.now();
      stop.abort();
      await expect(batch).rejects.toBeInstanceOf(BatchAbortedError);
      expect(Date.now() - stoppedAt).toBeLessThan(1000);
    } finally {
      silent.close();
    }
  });
});

describe('runBatch against a miner that floods a job', () => {
  const specs = (jobUuid: string, text: string) => ({
    message_type: 'V0MachineSpecsRequest' as const,
    job_uuid: jobUuid,
    specs: { specs: { text } },
  });

  it('ends the flooded job as a horde failure (protocol violation) and keeps the other jobs', async () => {
    let flooded: string | null = null;
    const miner = await SimulatedMiner.start({
      hotkey: keys.cheater,
      manifest: { [FAST.id]: 2 },
      // The first job's executor sends a thousand messages while the validator waits at the barrier.
      afterReady: (jobUuid) => {
        if (flooded !== null) return [];
        flooded = jobUuid;
        return Array.from({ length: 1000 }, () => specs(jobUuid, 'x'));
      },
    });
    miners.push(miner);
    const result = await runBatch(cycleByIndex(9, 100), [target(miner, 'c')], {
      validator,
      clock,
      logger,
      store: new ValidatorStore(store, validator.ss58),
      generators: [echoGenerator],
      hardwareClasses: [FAST],
      settings,
    });
    expect(result.outcomes).toEqual({ completed: 1, horde_failed: 1 });
    const failed = result.records.find((record) => record.jobUuid === flooded)!;
    expect(failed.status).toBe('horde_failed');
    expect(failed.details).toMatch(/flooded the job.*protocol violation/);
  });

  it('bounds the bytes queued for a job too', async () => {
    let flooded: string | null = null;
    const miner = await SimulatedMiner.start({
      hotkey: keys.busy,
      manifest: { [FAST.id]: 1 },
      afterReady: (jobUuid) => {
        flooded = jobUuid;
        return Array.from({ length: 8 }, () => specs(jobUuid, 'y'.repeat(16 * 1024)));
      },
    });
    // A second miner whose executor is slow to get ready holds the barrier: meanwhile nobody reads the flooded job's messages.
    const slow = await SimulatedMiner.start({ hotkey: keys.slow, manifest: { [FAST.id]: 1 }, readyDelayMs: 500 });
    miners.push(miner, slow);
    const result = await runBatch(cycleByIndex(10, 100), [target(miner, 'c'), target(slow, 'd')], {
      validator,
      clock,
      logger,
      store: new ValidatorStore(store, validator.ss58),
      generators: [echoGenerator],
      hardwareClasses: [FAST],
      // Few enough messages to pass the count bound; 128 KiB in all is past the byte bound.
      settings: { ...settings, jobInbox: { maxMessages: 100, maxBytes: 64 * 1024 } },
    });
    expect(result.records.find((record) => record.jobUuid === flooded)).toMatchObject({
      status: 'horde_failed',
      details: expect.stringMatching(/flooded the job/),
    });
    expect(result.outcomes).toEqual({ completed: 1, horde_failed: 1 });
  });
});

describe('runBatch memory', () => {
  it("lets go of a job's payload (its inline volume) once the job request is sent", async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const volumes: WeakRef<object>[] = [];
    const withVolume: JobGenerator = {
      ...echoGenerator,
      async generate(request) {
        const job = await echoGenerator.generate(request);
        const volume = { volume_type: 'inline' as const, contents: randomBytes(256 * 1024).toString('base64') };
        volumes.push(new WeakRef(volume));
        return { ...job, spec: { ...job.spec, volume } };
      },
    };
    // The executor takes 3 s: time to look at the validator's memory while the job runs.
    const miner = await SimulatedMiner.start({ hotkey: keys.rich, manifest: { [FAST.id]: 2 }, executionDelayMs: 3000 });
    miners.push(miner);
    const batch = runBatch(cycleByIndex(11, 100), [target(miner, 'c')], {
      validator,
      clock,
      logger,
      store: new ValidatorStore(store, validator.ss58),
      generators: [withVolume],
      hardwareClasses: [FAST],
      settings,
    });
    await vi.waitFor(() => expect(miner.jobs).toHaveLength(2), { timeout: 5000 });
    expect(miner.jobs.every((job) => job.volume !== null)).toBe(true); // the miner did get the volumes
    await new Promise((resolve) => setTimeout(resolve, 50));
    gc();
    expect(volumes).toHaveLength(2);
    expect(volumes.map((ref) => ref.deref() === undefined)).toEqual([true, true]);
    expect((await batch).outcomes).toEqual({ completed: 2 });
  });
});

describe('runBatch when an executor fails while the batch waits at the barrier', () => {
  it("sends that job no job request, ends it with the executor's own failure and logs what failed on the job's line", async () => {
    let failedJob: string | null = null;
    const miner = await SimulatedMiner.start({
      hotkey: keys.honest,
      manifest: { [FAST.id]: 1 },
      // The executor gives up (its download limit ran out) before the job request comes.
      afterReady: (jobUuid) => {
        failedJob = jobUuid;
        return [
          {
            message_type: 'V0JobFailedRequest',
            job_uuid: jobUuid,
            reason: 'timeout',
            stage: 'volume_download',
            message: 'Download time exceeded',
            docker_process_exit_status: null,
          },
        ];
      },
    });
    // A second miner slow to get ready holds the barrier, so the failure arrives before it passes.
    const slow = await SimulatedMiner.start({ hotkey: keys.slow, manifest: { [FAST.id]: 1 }, readyDelayMs: 500 });
    miners.push(miner, slow);
    const lines: Record<string, unknown>[] = [];
    const recording = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const result = await runBatch(cycleByIndex(11, 100), [target(miner, 'c'), target(slow, 'd')], {
      validator,
      clock,
      logger: recording,
      store: new ValidatorStore(store, validator.ss58),
      generators: [echoGenerator],
      hardwareClasses: [FAST],
      settings,
    });
    expect(result.outcomes).toEqual({ completed: 1, failed: 1 });
    expect(result.records.find((record) => record.jobUuid === failedJob)).toMatchObject({
      status: 'failed',
      details: 'job failed (timeout, volume_download): Download time exceeded',
    });
    expect(miner.timeline.filter((event) => event.jobUuid === failedJob).map((event) => event.messageType)).not.toContain('V0JobRequest');
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'the executor failed while waiting for the job request; not sent',
        jobUuid: failedJob,
        details: 'job failed (timeout, volume_download): Download time exceeded',
      }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'job did not pass', jobUuid: failedJob, status: 'failed' }));
  });
});
