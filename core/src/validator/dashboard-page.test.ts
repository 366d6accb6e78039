import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Metagraph, Store } from '../contracts/index.js';
import type { TableSection } from '../dashboard/view.js';
import { renderPage } from '../dashboard/render.js';
import { openStore } from '../store/index.js';
import { validatorJobPage, validatorPage } from './dashboard-page.js';
import { TransferredReceiptsRepository } from './receipts/store.js';
import type { JobRecord } from './job-driver.js';
import { ValidatorStore } from './store.js';

const MINER_A = '5MinerAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const MINER_B = '5MinerBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';

const job = (jobUuid: string, minerHotkey: string, fields: Partial<JobRecord> = {}): JobRecord => ({
  jobUuid,
  cycle: 3,
  minerHotkey,
  executorClass: 'always_on.test',
  kind: 'synthetic',
  generator: 'hash-crack',
  description: 'hash-crack',
  status: 'completed',
  accepted: true,
  correct: true,
  inTime: true,
  timeTookMs: 900,
  details: 'answer correct',
  rejectionReason: null,
  rejectionReceipts: [],
  checkedAt: null,
  failure: null,
  ...fields,
});

const metagraph = {
  neurons: [
    { uid: 1, hotkey: MINER_A, axon: { ip: '203.0.113.1', port: 8000 } },
    { uid: 2, hotkey: MINER_B, axon: null },
  ],
} as unknown as Metagraph;

describe('validator dashboard page', () => {
  let store: Store;
  let repo: ValidatorStore;
  let receipts: TransferredReceiptsRepository;

  beforeAll(async () => {
    store = await openStore({ client: 'sqlite', filename: ':memory:' });
    repo = new ValidatorStore(store, 'validator-page');
    receipts = new TransferredReceiptsRepository(store, 'validator-page');
    // Miner A served a page with two good receipts and three bad lines, then failed a fetch; miner B served one.
    await receipts.recordPageRead(
      {
        endpoint: '203.0.113.1:8000',
        minerHotkeys: [MINER_A],
        page: 9,
        stored: 2,
        refused: { bad_miner_signature: 2, not_json: 1 },
        fetchFailed: false,
        error: null,
      },
      4_000,
    );
    await receipts.recordPageRead(
      {
        endpoint: '203.0.113.1:8000',
        minerHotkeys: [MINER_A],
        page: 10,
        stored: 0,
        refused: {},
        fetchFailed: true,
        error: 'connect ECONNREFUSED 203.0.113.1:8000',
      },
      8_000,
    );
    await receipts.recordPageRead(
      { endpoint: '203.0.113.2:8000', minerHotkeys: [MINER_B], page: 10, stored: 1, refused: {}, fetchFailed: false, error: null },
      9_000,
    );
    await receipts.saveCheckpoint('203.0.113.1:8000', { page: 9, offset: 900, complete: true }, 4_000);
    await repo.startBatch(3, 300, 1_000);
    await repo.saveManifests(
      3,
      new Map([
        [MINER_A, { 'always_on.test': 2 }],
        [MINER_B, { 'always_on.test': 1 }],
      ]),
    );
    await repo.saveJobs(
      [
        job('aaaaaaaa-1', MINER_A),
        job('aaaaaaaa-2', MINER_A, { correct: false, details: 'printed deadbeef' }),
        job('bbbbbbbb-1', MINER_B, {
          status: 'horde_failed',
          correct: null,
          failure: { source: 'validator', reason: 'timeout', stage: 'waiting for the result', message: 'no job result in 6 s' },
          history: [
            { status: 'sent', at: 1_000, detail: null },
            { status: 'accepted', at: 1_050, detail: null },
            { status: 'executor_ready', at: 1_450, detail: null },
            { status: 'job_sent', at: 1_500, detail: null },
            { status: 'horde_failed', at: 7_500, detail: 'timeout · waiting for the result (by the validator)' },
          ],
        }),
        job('bbbbbbbb-2', MINER_B, {
          status: 'rejected',
          accepted: false,
          correct: null,
          details: 'declined (busy) with 1 receipts',
          rejectionReason: 'busy',
        }),
      ],
      2_000,
    );
    await repo.finishBatch(3, { finishedAt: 5_000, miners: 2, jobs: 4, overheadMs: 100, status: 'finished' });
    await repo.saveScores(
      3,
      [{ step: 0, rule: 'synthetic-jobs', hotkey: MINER_A, executorClass: 'always_on.test', points: 1 }],
      [{ hotkey: MINER_A, uid: 1, weight: 1 }],
      6_000,
    );
    await repo.recordWeights(
      { cycle: 2, status: 'committed', block: 250, revealBlock: 262, uids: [1, 2], weights: [0.6, 0.4], attempts: 1, error: null },
      3_000,
    );
    await repo.recordWeights(
      { cycle: 3, status: 'committed', block: 350, revealBlock: 362, uids: [1, 2], weights: [1, 0], attempts: 1, error: null },
      6_500,
    );
  });
  afterAll(() => store.close());

  it('shows miners with manifests and outcomes, batches, scores by rule, jobs with why they failed, refusals and the weights chart', async () => {
    const page = await validatorPage({
      hotkey: 'validator-page',
      netuid: 12,
      store: repo,
      receipts,
      progress: () => ({
        block: 360,
        cycle: 3,
        phase: 'idle',
        lastBatch: { cycle: 3, miners: 2, jobs: 4, outcomes: {}, durationMs: 4000, longestJobMs: 900, overheadMs: 100 },
        lastScoredCycle: 3,
        lastWeights: null,
      }),
      metagraph: async () => metagraph,
      now: () => 10_000,
    });
    const table = (id: string) => page.sections.find((s) => s.id === id) as TableSection;
    const text = (cell: unknown) => (cell !== null && typeof cell === 'object' ? (cell as { text: string }).text : String(cell));
    expect(table('miners').rows.map((row) => row.map(text))).toEqual([
      ['1', '5MinerAA…AAAAAA', '203.0.113.1:8000', 'always_on.test ×2', '1', '1', '0', '0'],
      ['2', '5MinerBB…BBBBBB', 'null', 'always_on.test ×1', '0', '0', '1', '1'],
    ]);
    expect(table('batches').rows[0]!.map(text)).toEqual(['3', '300', 'finished', '2', '4', '2', '0', '1', '1', '4.0 s']);
    expect(table('scores').columns).toEqual(['UID', 'Hotkey', 'synthetic-jobs', 'Weight']);
    expect(table('failures').rows.map((row) => row.map(text).slice(3, 7))).toEqual([
      ['validator', 'timeout', 'waiting for the result', 'no job result in 6 s'],
    ]);
    expect(table('refusals').rows.map((row) => text(row[4]))).toEqual(['declined (busy) with 1 receipts']);
    expect(page.tiles.find((t) => t.label === 'Failed (last batch)')).toMatchObject({ value: '1', tone: 'bad' });
    const chart = page.sections.find((s) => s.id === 'weights');
    expect(chart).toMatchObject({ kind: 'chart', note: 'Last put on chain: cycle 3, committed at block 350, reveal due at block 362.' });
    const svg = (chart as { svg: string }).svg;
    expect(svg.match(/<g class="series"/g)).toHaveLength(2);
    expect(svg).toContain('uid 1 5Miner…: 0.6000 at 2');
    expect(renderPage(page, 10_000)).toContain('<svg');

    // Receipts transferred per miner endpoint, refused by reason, failed fetches, last fetch and checkpoint.
    expect(table('receipts-wide').rows.map((row) => row.map(text))).toEqual([
      ['203.0.113.2:8000', '5MinerBB…BBBBBB', '1', '1', '0', 'null', '0', 'null', '1.0 s ago', '-'],
      [
        '203.0.113.1:8000',
        '5MinerAA…AAAAAA',
        '2',
        '2',
        '3',
        'bad_miner_signature 2 · not_json 1',
        '1',
        'connect ECONNREFUSED 203.0.113.1:8000',
        '2.0 s ago',
        '6.0 s ago',
      ],
    ]);
    // Jobs link to their own page.
    const html = renderPage(page, 10_000);
    expect(html).toContain('<a href="jobs/bbbbbbbb-1">bbbbbbbb</a>');
  });

  it('gives each job a page with its status history and why it failed, and none for a job it does not hold', async () => {
    const page = (await validatorJobPage(repo, 'bbbbbbbb-1', 10_000))!;
    expect(page.title).toBe('Job bbbbbbbb-1');
    expect(page.tiles.find((t) => t.label === 'Status')).toMatchObject({ value: 'horde_failed', tone: 'bad' });
    const table = (id: string) => page.sections.find((s) => s.id === id) as TableSection;
    const text = (cell: unknown) => (cell !== null && typeof cell === 'object' ? (cell as { text: string }).text : String(cell));
    expect(table('history-wide').rows.map((row) => row.slice(1).map(text))).toEqual([
      ['0 ms', 'null', 'sent', 'null'],
      ['50 ms', '50 ms', 'accepted', 'null'],
      ['450 ms', '400 ms', 'executor_ready', 'null'],
      ['500 ms', '50 ms', 'job_sent', 'null'],
      ['6.5 s', '6.0 s', 'horde_failed', 'timeout · waiting for the result (by the validator)'],
    ]);
    expect(table('failure-wide').rows[0]!.map(text)).toEqual(['validator', 'timeout', 'waiting for the result', 'no job result in 6 s']);
    // A snapshot with a way back, no live stream.
    const html = renderPage(page, 10_000, { root: '../' });
    expect(html).toContain('href="../"');
    expect(html).not.toContain('EventSource');
    // An older job with no history says so; an unknown one has no page.
    const old = (await validatorJobPage(repo, 'aaaaaaaa-1', 10_000))!;
    expect((old.sections[0] as TableSection).rows).toEqual([]);
    expect(await validatorJobPage(repo, 'cccccccc-1', 10_000)).toBeNull();
    expect(await validatorJobPage(new ValidatorStore(store, 'another-validator'), 'bbbbbbbb-1', 10_000)).toBeNull();
  });
});
