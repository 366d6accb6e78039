import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../contracts/index.js';
import { openStore } from '../store/index.js';
import { signedStartedReceipt, testHotkey } from '../testkit/scoring.js';
import { pgDatabase, type TestDatabase } from '../../../test/support/services.js';
import type { JobRecord } from './job-driver.js';
import { ValidatorStore } from './store.js';
import { OrganicStore, RESTARTED_WHILE_RUNNING } from './organic/store.js';

const base: Omit<JobRecord, 'jobUuid' | 'status'> = {
  cycle: 4,
  minerHotkey: 'miner-a',
  executorClass: 'always_on.test',
  kind: 'synthetic',
  generator: 'hash-crack',
  description: 'hash-crack',
  accepted: true,
  correct: true,
  inTime: true,
  timeTookMs: 812,
  details: 'answer correct',
  rejectionReason: null,
  rejectionReceipts: [],
  checkedAt: null,
  failure: null,
};

describe.each(['sqlite', 'postgres'] as const)('ValidatorStore on %s', (dialect) => {
  let store: Store;
  let database: TestDatabase | undefined;

  beforeAll(async () => {
    if (dialect === 'postgres') {
      database = await pgDatabase('horde_validator_store');
      store = await openStore({ client: 'postgres', url: database.url });
    } else {
      store = await openStore({ client: 'sqlite', filename: ':memory:' });
    }
  });
  afterAll(async () => {
    await store.close();
    await database?.drop();
  });

  it("closes what a killed process left unfinished: its running batches and organic jobs in flight, no other validator's", async () => {
    const mine = new ValidatorStore(store, 'validator-killed');
    const other = new ValidatorStore(store, 'validator-alive');
    await mine.startBatch(7, 100, 1_000);
    await mine.startBatch(8, 180, 2_000);
    await mine.finishBatch(7, { finishedAt: 1_500, miners: 1, jobs: 1, overheadMs: 10, status: 'finished' });
    await other.startBatch(8, 180, 2_000);
    const organicMine = new OrganicStore(store, 'validator-killed');
    const organicOther = new OrganicStore(store, 'validator-alive');
    await organicMine.addJob({
      jobUuid: 'killed-running',
      executorClass: 'always_on.test',
      namespace: null,
      onTrustedMiner: false,
      signatory: 's',
      now: 1,
    });
    await organicMine.setStatus('killed-running', 'volumes_ready', null, 2);
    await organicMine.addJob({
      jobUuid: 'killed-done',
      executorClass: 'always_on.test',
      namespace: null,
      onTrustedMiner: false,
      signatory: 's',
      now: 1,
    });
    await organicMine.setStatus('killed-done', 'completed', null, 2);
    await organicOther.addJob({
      jobUuid: 'alive-running',
      executorClass: 'always_on.test',
      namespace: null,
      onTrustedMiner: false,
      signatory: 's',
      now: 1,
    });

    expect(await mine.closeInterruptedBatches(3_000)).toEqual([8]);
    expect(await organicMine.closeInterruptedJobs(3_000)).toEqual(['killed-running']);
    expect((await mine.batch(8))?.status).toBe('failed');
    expect((await mine.batch(7))?.status).toBe('finished');
    expect((await other.batch(8))?.status).toBe('running');
    expect(await organicMine.job('killed-running')).toMatchObject({ status: 'horde_failed', statusMetadata: RESTARTED_WHILE_RUNNING });
    expect((await organicMine.job('killed-done'))?.status).toBe('completed');
    expect((await organicOther.job('alive-running'))?.status).toBe('received');
    // Nothing left: a second start closes nothing.
    expect(await mine.closeInterruptedBatches(4_000)).toEqual([]);
    // A new leader of validator workers closes past cycles' batches only (it resumes the current one).
    await other.startBatch(9, 900, 5_000);
    expect(await other.closeInterruptedBatches(6_000, 9)).toEqual([8]);
    expect((await other.batch(9))?.status).toBe('running');
    expect(await organicMine.closeInterruptedJobs(4_000)).toEqual([]);
  });

  it("as a validator worker, closes only the organic jobs of workers whose session is gone, never a live worker's", async () => {
    const alive = new OrganicStore(store, 'validator-workers', 101);
    const dead = new OrganicStore(store, 'validator-workers', 202);
    const single = new OrganicStore(store, 'validator-workers');
    const job = (jobUuid: string) => ({
      jobUuid,
      executorClass: 'always_on.test',
      namespace: null,
      onTrustedMiner: false,
      signatory: 's',
      now: 1,
    });
    await alive.addJob(job('live-worker-job'));
    await dead.addJob(job('dead-worker-job'));
    await single.addJob(job('single-process-job'));
    const asked: number[][] = [];
    // Session 101 is connected, 202 is not (what pg_stat_activity says, through the worker pool).
    const connected = async (pids: readonly number[]) => {
      asked.push([...pids].sort());
      return new Set(pids.filter((pid) => pid === 101));
    };

    expect((await alive.closeInterruptedJobs(3_000, connected)).sort()).toEqual(['dead-worker-job', 'single-process-job']);
    expect(asked).toEqual([[101, 202]]);
    expect((await alive.job('live-worker-job'))?.status).toBe('received');
    expect(await alive.job('dead-worker-job')).toMatchObject({ status: 'horde_failed', statusMetadata: RESTARTED_WHILE_RUNNING });
    // A single-process start (no workers) closes every open job, the live worker's too.
    expect(await single.closeInterruptedJobs(4_000)).toEqual(['live-worker-job']);
  });

  it('keeps job outcomes, with excuse receipts, in the shape scoring rules read', async () => {
    const repo = new ValidatorStore(store, 'validator-1');
    const excuse = signedStartedReceipt(await testHotkey('//StoreRich'), { minerHotkey: 'miner-a', timestampMs: 1_700_000_000_000 });
    await repo.saveJobs(
      [
        { ...base, jobUuid: 'j1', status: 'completed' },
        {
          ...base,
          jobUuid: 'j2',
          status: 'rejected',
          accepted: false,
          correct: null,
          inTime: null,
          timeTookMs: null,
          rejectionReason: 'busy',
          rejectionReceipts: [excuse],
          checkedAt: 1_700_000_001_000,
        },
      ],
      1_700_000_002_000,
    );
    await repo.recordOrganicJob(
      {
        jobUuid: 'o1',
        cycle: 4,
        minerHotkey: 'miner-b',
        executorClass: 'always_on.test',
        status: 'completed',
        executorSeconds: 12.5,
        paidWithBlocks: [10, 11],
      },
      1_700_000_003_000,
    );
    // Another validator's rows in the same database stay separate.
    await new ValidatorStore(store, 'validator-2').saveJobs([{ ...base, jobUuid: 'other', status: 'completed' }], 1);

    const outcomes = await repo.jobOutcomes(4);
    expect(outcomes).toEqual([
      {
        jobUuid: 'j1',
        minerHotkey: 'miner-a',
        executorClass: 'always_on.test',
        kind: 'synthetic',
        status: 'completed',
        accepted: true,
        correct: true,
        inTime: true,
        timeTookMs: 812,
      },
      {
        jobUuid: 'j2',
        minerHotkey: 'miner-a',
        executorClass: 'always_on.test',
        kind: 'synthetic',
        status: 'rejected',
        accepted: false,
        rejection: { reason: 'busy', receipts: [excuse], checkedAt: 1_700_000_001_000 },
      },
      {
        jobUuid: 'o1',
        minerHotkey: 'miner-b',
        executorClass: 'always_on.test',
        kind: 'organic',
        status: 'completed',
        accepted: true,
        executorSeconds: 12.5,
        paidWithBlocks: [10, 11],
      },
    ]);
  });

  it('keeps why each failed job failed and lists failed jobs newest first, apart from the others', async () => {
    const repo = new ValidatorStore(store, 'validator-fail');
    const failed = { ...base, status: 'failed' as const, correct: null, inTime: null, timeTookMs: null };
    await repo.saveJobs(
      [
        {
          ...failed,
          jobUuid: 'f1',
          details: 'job failed (timeout, execution): ran out of time',
          failure: { source: 'executor', reason: 'timeout', stage: 'execution', message: 'ran out of time' },
        },
        { ...base, jobUuid: 'ok1', status: 'completed' },
      ],
      1_000,
    );
    await repo.saveJobs(
      [
        {
          ...failed,
          jobUuid: 'h1',
          status: 'horde_failed',
          details: 'waiting for accept: no answer in 5 s',
          failure: { source: 'validator', reason: 'timeout', stage: 'waiting for accept', message: 'no answer in 5 s' },
        },
      ],
      2_000,
    );
    await repo.recordOrganicJob(
      {
        jobUuid: 'o-fail',
        cycle: 4,
        minerHotkey: 'miner-b',
        executorClass: 'always_on.test',
        status: 'failed',
        failure: { source: 'executor', reason: 'nonzero_exit_code', stage: 'execution', message: 'exit 3' },
      },
      3_000,
    );

    const rows = await repo.failedJobs();
    expect(
      rows.map((row) => [row.jobUuid, row.status, row.failure.source, row.failure.reason, row.failure.stage, row.failure.message]),
    ).toEqual([
      ['o-fail', 'failed', 'executor', 'nonzero_exit_code', 'execution', 'exit 3'],
      ['h1', 'horde_failed', 'validator', 'timeout', 'waiting for accept', 'no answer in 5 s'],
      ['f1', 'failed', 'executor', 'timeout', 'execution', 'ran out of time'],
    ]);
    expect((await repo.failedJobs({ limit: 1 })).map((row) => row.jobUuid)).toEqual(['o-fail']);
    expect((await repo.jobs()).find((row) => row.jobUuid === 'ok1')?.failure).toBeNull();
    expect(await repo.jobCountsByCycle([4])).toEqual(new Map([[4, { failed: 2, horde_failed: 1, completed: 1 }]]));
  });

  it("keeps each job's status history with the job, finds a job by a unique uuid prefix, and drops the history with the job", async () => {
    const repo = new ValidatorStore(store, `validator-history-${dialect}`);
    const history = [
      { status: 'sent', at: 1_700_000_000_000, detail: null },
      { status: 'accepted', at: 1_700_000_000_040, detail: null },
      { status: 'executor_ready', at: 1_700_000_001_500, detail: null },
      { status: 'job_sent', at: 1_700_000_001_510, detail: null },
      { status: 'failed', at: 1_700_000_004_000, detail: 'nonzero_return_code · execution (by the executor)' },
    ];
    const failure = { source: 'executor' as const, reason: 'nonzero_return_code', stage: 'execution', message: 'exit 1' };
    await repo.saveJobs(
      [
        { ...base, jobUuid: `h1aaaaaa-${dialect}-0001`, status: 'failed', correct: null, failure, history },
        { ...base, jobUuid: `h1aaaaaa-${dialect}-0002`, status: 'completed' },
        {
          ...base,
          jobUuid: `h2bbbbbb-${dialect}-0003`,
          status: 'completed',
          history: Array.from({ length: 40 }, (_, i) => ({ status: `s${i}`, at: i, detail: 'x'.repeat(1000) })),
        },
      ],
      1_700_000_005_000,
    );
    await repo.recordOrganicJob(
      {
        jobUuid: `o1cccccc-${dialect}`,
        cycle: 4,
        minerHotkey: 'miner-a',
        executorClass: 'always_on.test',
        status: 'completed',
        history: [
          { status: 'sent', at: 5, detail: null },
          { status: 'completed', at: 9, detail: 'correct' },
        ],
      },
      10,
    );

    expect(await repo.jobHistory(`h1aaaaaa-${dialect}-0001`)).toEqual(history);
    // A job stored without a history (or before histories were kept) has an empty one.
    expect(await repo.jobHistory(`h1aaaaaa-${dialect}-0002`)).toEqual([]);
    // Bounded: a job keeps at most 16 transitions of at most 300 characters of detail.
    const capped = await repo.jobHistory(`h2bbbbbb-${dialect}-0003`);
    expect(capped).toHaveLength(16);
    expect(capped[0]!.detail).toHaveLength(300);
    expect((await repo.jobHistory(`o1cccccc-${dialect}`)).map((t) => t.status)).toEqual(['sent', 'completed']);

    expect(await repo.job(`h2bbbbbb`)).toMatchObject({ jobUuid: `h2bbbbbb-${dialect}-0003`, status: 'completed' });
    expect(await repo.job(`h1aaaaaa-${dialect}-0001`)).toMatchObject({ status: 'failed', failure, history });
    await expect(repo.job('h1aaaaaa')).rejects.toMatchObject({ code: 'HORDE_VALIDATOR_JOB_AMBIGUOUS' });
    expect(await repo.job('zzzz')).toBeNull();
    // LIKE wildcards in a prefix are literal: '%' matches no uuid.
    expect(await repo.job('%')).toBeNull();
    expect(await repo.job('h_aaaaa')).toBeNull();
    // Another validator's jobs are not found through this one.
    expect(await new ValidatorStore(store, 'someone-else').job(`h2bbbbbb`)).toBeNull();

    // The history goes with its job (the rows are bounded by the jobs they belong to).
    await store
      .db('validator_jobs')
      .where({ job_uuid: `h1aaaaaa-${dialect}-0001` })
      .delete();
    expect(await repo.jobHistory(`h1aaaaaa-${dialect}-0001`)).toEqual([]);
  });

  it('keeps manifests, main hotkeys, batches, score steps, scores and weight records per cycle', async () => {
    const repo = new ValidatorStore(store, 'validator-1');
    await repo.saveManifests(5, new Map([['miner-a', { 'always_on.test': 2, 'always_on.gpu-24gb': 1 }]]));
    await repo.saveManifests(5, new Map([['miner-a', { 'always_on.test': 3 }]])); // rerun replaces
    expect(await repo.manifests(5)).toEqual({ 'miner-a': { 'always_on.test': 3 } });

    await repo.saveMainHotkeys(5, [{ coldkey: 'cold', mainHotkey: 'hot-2', reportedBy: 'hot-1' }]);
    expect([...(await repo.mainHotkeys(5))]).toEqual([['cold', 'hot-2']]);

    await repo.startBatch(5, 4000, 1_700_000_000_000);
    await repo.finishBatch(5, { finishedAt: 1_700_000_009_000, miners: 3, jobs: 7, overheadMs: 1234.4, status: 'finished' });
    expect(await repo.batch(5)).toEqual({
      cycle: 5,
      block: 4000,
      startedAt: 1_700_000_000_000,
      finishedAt: 1_700_000_009_000,
      miners: 3,
      jobs: 7,
      overheadMs: 1234,
      status: 'finished',
    });

    await repo.saveScores(
      5,
      [
        { step: 0, rule: 'synthetic-jobs', hotkey: 'hot-2', executorClass: 'always_on.test', points: 2 },
        { step: 1, rule: 'class-weights', hotkey: 'hot-2', executorClass: 'always_on.test', points: 1 },
      ],
      [{ hotkey: 'hot-2', uid: 7, weight: 1 }],
      1_700_000_010_000,
    );
    expect((await repo.scoreSteps(5)).map((s) => [s.step, s.rule, s.points])).toEqual([
      [0, 'synthetic-jobs', 2],
      [1, 'class-weights', 1],
    ]);
    expect(await repo.scores(5)).toEqual([{ hotkey: 'hot-2', uid: 7, weight: 1 }]);
    expect(await repo.latestScoredCycle()).toBe(5);

    await repo.recordWeights(
      { cycle: 5, status: 'committed', block: 4100, revealBlock: 4110, uids: [7], weights: [1], attempts: 1, error: null },
      1_700_000_011_000,
    );
    expect(await repo.weights(5)).toEqual([
      {
        cycle: 5,
        status: 'committed',
        block: 4100,
        revealBlock: 4110,
        uids: [7],
        weights: [1],
        attempts: 1,
        error: null,
        createdAt: 1_700_000_011_000,
        mode: null,
        revealRound: null,
      },
    ]);
    await repo.recordWeights(
      {
        cycle: 6,
        status: 'committed',
        block: 4200,
        revealBlock: 4210,
        uids: [7],
        weights: [1],
        attempts: 2,
        error: null,
        mode: 'timelocked_v4',
        revealRound: 32_340_463,
      },
      1_700_000_012_000,
    );
    expect(await repo.weights(6)).toMatchObject([{ mode: 'timelocked_v4', revealRound: 32_340_463, attempts: 2 }]);
    expect(await repo.weightsLanded(5)).toBe(true);
  });
});
