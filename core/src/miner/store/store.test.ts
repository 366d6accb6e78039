import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobStartedReceiptPayload, Store } from '../../contracts/index.js';
import { openStore } from '../../store/index.js';
import { pgDatabase, type TestDatabase } from '../../../../test/support/services.js';
import { createMinerStore, type CountersignedReceipt, type MinerStore } from './index.js';

// The same suite runs on the embedded default (SQLite) and on PostgreSQL.
const dialects = [
  {
    name: 'sqlite',
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'horde-miner-store-'));
      const store = await openStore({ client: 'sqlite', filename: join(dir, 'horde.sqlite') });
      return { store, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'postgres',
    open: async () => {
      const db: TestDatabase = await pgDatabase('horde_miner_store');
      const store = await openStore({ client: 'postgres', url: db.url });
      return { store, cleanup: () => db.drop() };
    },
  },
] as const;

function startedReceipt(over: Partial<JobStartedReceiptPayload> & { job_uuid: string }): CountersignedReceipt<JobStartedReceiptPayload> {
  return {
    payload: {
      receipt_type: 'JobStartedReceipt',
      miner_hotkey: 'miner-hk',
      validator_hotkey: 'validator-a',
      timestamp: '2026-01-02T03:04:05.123456Z',
      executor_class: 'always_on.test',
      is_organic: true,
      ttl: 30,
      ...over,
    },
    validator_signature: '0xaa',
    miner_signature: '0xbb',
  };
}

describe.each(dialects)('miner store on $name', ({ open }) => {
  let store: Store;
  let miner: MinerStore;
  let cleanup: () => Promise<void>;
  let clock = 1_000_000;

  beforeAll(async () => {
    ({ store, cleanup } = await open());
    miner = createMinerStore(store.db, () => clock);
  });
  afterAll(async () => {
    await store.close();
    await cleanup();
  });

  it('records a job with its status history and result fields', async () => {
    await miner.jobs.create({
      jobUuid: 'job-1',
      validatorHotkey: 'validator-a',
      minerHotkey: 'miner-hk',
      executorClass: 'always_on.test',
      executorToken: 'job-1-token',
      status: 'waiting_for_executor',
      initialJobDetails: { message_type: 'V0InitialJobRequest', job_uuid: 'job-1' },
    });
    clock += 10;
    await miner.jobs.setStatus('job-1', 'waiting_for_payload');
    clock += 10;
    await miner.jobs.setStatus('job-1', 'finished', {
      stdout: 'hello',
      stderr: '',
      artifacts: { '/artifacts/a.txt': 'aGk=' },
      uploadResults: { 'out.zip': '{"headers":{},"body":""}' },
      exitStatus: 0,
    });

    const job = await miner.jobs.get('job-1');
    expect(job).toMatchObject({
      status: 'finished',
      stdout: 'hello',
      exitStatus: 0,
      artifacts: { '/artifacts/a.txt': 'aGk=' },
      initialJobDetails: { job_uuid: 'job-1' },
      createdAt: 1_000_000,
      updatedAt: 1_000_020,
    });
    expect((await miner.jobs.history('job-1')).map((h) => [h.status, h.at])).toEqual([
      ['waiting_for_executor', 1_000_000],
      ['waiting_for_payload', 1_000_010],
      ['finished', 1_000_020],
    ]);
  });

  it('fails jobs left active by a previous process and keeps finished ones', async () => {
    await miner.jobs.create({
      jobUuid: 'job-2',
      validatorHotkey: 'validator-a',
      minerHotkey: 'miner-hk',
      executorClass: 'always_on.test',
      executorToken: 'job-2-token',
      status: 'running',
      initialJobDetails: {},
    });
    expect(await miner.jobs.failActive('miner_restarted', 'the miner restarted')).toBe(1);
    expect(await miner.jobs.get('job-2')).toMatchObject({ status: 'failed', errorType: 'miner_restarted' });
    expect((await miner.jobs.get('job-1'))?.status).toBe('finished');
  });

  it('stores a receipt once per (job, type) and finds busy excuses by class and validity window', async () => {
    const t0 = Date.parse('2026-01-02T03:04:05.123Z');
    expect(await miner.receipts.insert(startedReceipt({ job_uuid: 'busy-1' }))).toBe(true);
    expect(await miner.receipts.insert(startedReceipt({ job_uuid: 'busy-1' }))).toBe(false);
    await miner.receipts.insert(startedReceipt({ job_uuid: 'other-class', executor_class: 'always_on.gpu-24gb' }));
    await miner.receipts.insert(startedReceipt({ job_uuid: 'synthetic', is_organic: false }));
    expect(await miner.receipts.count()).toBe(3);

    const excuses = (at: number, exclude = 'new-job') =>
      miner.receipts
        .excuses({ executorClass: 'always_on.test', at, excludeJobUuid: exclude })
        .then((r) => r.map((x) => x.payload.job_uuid));
    expect(await excuses(t0 + 5_000)).toEqual(['busy-1']);
    expect(await excuses(t0 + 30_000)).toEqual(['busy-1']); // ttl 30 s, inclusive
    expect(await excuses(t0 + 31_000)).toEqual([]); // expired
    expect(await excuses(t0 - 1_000)).toEqual([]); // issued after the check time
    expect(await excuses(t0 + 5_000, 'busy-1')).toEqual([]); // never the declined job itself

    const stored = await miner.receipts.get('busy-1', 'JobStartedReceipt');
    expect(stored).toEqual(startedReceipt({ job_uuid: 'busy-1' }));
  });

  it('excuses with a long organic job until its accepted receipt runs out or it finishes, and sends the accepted receipt along', async () => {
    const t0 = Date.parse('2026-01-02T03:04:05.123Z');
    const at = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');
    await miner.receipts.insert(startedReceipt({ job_uuid: 'long', ttl: 7 }));
    await miner.receipts.insert({
      payload: {
        receipt_type: 'JobAcceptedReceipt',
        job_uuid: 'long',
        miner_hotkey: 'miner-hk',
        validator_hotkey: 'validator-a',
        timestamp: at(t0 + 1_000),
        time_accepted: at(t0 + 1_000),
        ttl: 600,
      },
      validator_signature: '0xcc',
      miner_signature: '0xdd',
    });
    const excuses = (ms: number) =>
      miner.receipts
        .excuses({ executorClass: 'always_on.test', at: ms, excludeJobUuid: 'new-job' })
        .then((r) => r.filter((x) => x.payload.job_uuid === 'long').map((x) => x.payload.receipt_type));
    // 5 minutes in: the started receipt's 7 s are long over, the accepted receipt's 600 s are not.
    expect(await excuses(t0 + 300_000)).toEqual(['JobStartedReceipt', 'JobAcceptedReceipt']);
    expect(await excuses(t0 + 602_000)).toEqual([]); // the job's span is over
    await miner.receipts.insert({
      payload: {
        receipt_type: 'JobFinishedReceipt',
        job_uuid: 'long',
        miner_hotkey: 'miner-hk',
        validator_hotkey: 'validator-a',
        timestamp: at(t0 + 120_000),
        time_started: at(t0 + 2_000),
        time_took_us: 118_000_000,
        score_str: '0.000000',
        block_numbers: [],
      },
      validator_signature: '0xee',
      miner_signature: '0xff',
    });
    expect(await excuses(t0 + 100_000)).toEqual(['JobStartedReceipt', 'JobAcceptedReceipt']); // before it finished
    expect(await excuses(t0 + 300_000)).toEqual([]); // finished at 120 s: no longer busy
    await store.db('miner_receipts').where({ job_uuid: 'long' }).delete();
  });

  it('tracks validators seen and the blacklist', async () => {
    await miner.validators.seen('validator-a', false);
    clock += 100;
    await miner.validators.seen('validator-a', true);
    const [seen] = await miner.validators.list();
    expect(seen).toEqual({ hotkey: 'validator-a', firstSeenAt: clock - 100, lastSeenAt: clock, debug: true });

    expect(await miner.validators.isBlacklisted('validator-b')).toBe(false);
    await miner.validators.blacklist('validator-b', 'spam');
    expect(await miner.validators.isBlacklisted('validator-b')).toBe(true);
    expect(await miner.validators.unblacklist('validator-b')).toBe(true);
    expect(await miner.validators.isBlacklisted('validator-b')).toBe(false);
  });

  it('evicts jobs, their history and receipts older than the cutoff', async () => {
    const t0 = Date.parse('2026-01-02T03:04:05.123Z');
    expect(await miner.receipts.evictOlderThan(t0)).toBe(0);
    expect(await miner.receipts.evictOlderThan(t0 + 1)).toBe(3);
    expect(await miner.receipts.count()).toBe(0);

    expect(await miner.jobs.evictOlderThan(1_000_001)).toBe(1);
    expect(await miner.jobs.get('job-1')).toBeNull();
    expect(await miner.jobs.history('job-1')).toEqual([]);
    expect(await miner.jobs.get('job-2')).not.toBeNull();
    expect(await miner.jobs.evictOlderThan(clock + 1)).toBe(1);
    expect(await miner.jobs.history('job-2')).toEqual([]);
  });
});
