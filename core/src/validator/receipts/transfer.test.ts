import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Clock, Receipt, Store } from '../../contracts/index.js';
import type { Hotkey } from '../../keys/index.js';
import { createLogger, silentLogger } from '../../logging/index.js';
import { createMetricsRegistry } from '../../metrics/index.js';
import { createMinerServer } from '../../miner/http/server.js';
import { ReceiptPages, receiptLine, receiptPageAt } from '../../miner/receipts/pages.js';
import { datetimeFromEpochMicros } from '../../protocol/datetime.js';
import {
  countersignReceipt,
  createJobAcceptedReceipt,
  createJobFinishedReceipt,
  createJobStartedReceipt,
} from '../../protocol/receipts.js';
import { openStore } from '../../store/index.js';
import { testHotkey } from '../../testkit/scoring.js';
import { pgDatabase, type TestDatabase } from '../../../../test/support/services.js';
import { startHttpServer, type TestHttpServer } from '../../../../test/support/http-server.js';
import type { ReceiptSource } from './sources.js';
import { TransferredReceiptsRepository } from './store.js';
import { ReceiptTransfer, type PageReadReport, type ReceiptTransferSettings } from './transfer.js';
import { InThreadVerifier } from './verifier-pool.js';

const PAGE_MS = 300_000;
/** The start of a page, so tests know which page each receipt lands in. */
const T0 = receiptPageAt(Date.UTC(2026, 0, 2, 3, 0, 0)) * PAGE_MS;

const settings: ReceiptTransferSettings = {
  intervalMs: 50,
  catchUpMs: 5 * 3_600_000,
  activePages: 2,
  catchUpConcurrency: 4,
  keepUpConcurrency: 4,
  catchUpTimeoutMs: 3_000,
  keepUpTimeoutMs: 1_000,
  maxPageBytes: 1024 * 1024,
  sourcesRefreshMs: 0,
};

let miner: Hotkey;
let validator: Hotkey;
let stranger: Hotkey;

beforeAll(async () => {
  [miner, validator, stranger] = (await Promise.all(['//Alice', '//Bob', '//Eve'].map(testHotkey))) as [Hotkey, Hotkey, Hotkey];
});

let counter = 0;
/** A started receipt `validator` signed and `miner` countersigned, stamped `ms`. */
function started(ms: number, signer: Hotkey = validator): Receipt & { miner_signature: string } {
  counter += 1;
  const receipt = createJobStartedReceipt(
    {
      jobUuid: `job-${counter}`,
      minerHotkey: miner.ss58,
      executorClass: 'always_on.test',
      isOrganic: true,
      ttl: 7,
      timestamp: datetimeFromEpochMicros(ms * 1000),
    },
    signer,
  );
  return countersignReceipt(receipt, miner) as Receipt & { miner_signature: string };
}

function accepted(ms: number): Receipt {
  counter += 1;
  const receipt = createJobAcceptedReceipt(
    {
      jobUuid: `job-${counter}`,
      minerHotkey: miner.ss58,
      timeAccepted: datetimeFromEpochMicros(ms * 1000),
      ttl: 600,
      timestamp: datetimeFromEpochMicros(ms * 1000),
    },
    validator,
  );
  return countersignReceipt(receipt, miner);
}

const logger = process.env.HORDE_TEST_LOG ? createLogger({ level: 'debug', destination: 'stderr' }) : silentLogger();

describe.each(['sqlite', 'postgres'] as const)('receipt transfer on %s', (dialect) => {
  let store: Store;
  let database: TestDatabase | undefined;
  let dir: string;
  let pages: ReceiptPages;
  let app: FastifyInstance;
  let source: ReceiptSource;
  let now = T0;
  const clock: Clock = { now: () => now, sleep: async () => undefined };
  const requests: Array<{ url: string; range: string | undefined; encoding: string | undefined }> = [];

  const transfer = (repository = new TransferredReceiptsRepository(store, validator.ss58)) =>
    new ReceiptTransfer({ repository, verifier: new InThreadVerifier(), sources: async () => [source], clock, logger, settings });

  beforeAll(async () => {
    if (dialect === 'postgres') {
      database = await pgDatabase('horde_receipt_transfer');
      store = await openStore({ client: 'postgres', url: database.url });
    } else {
      dir = mkdtempSync(join(tmpdir(), 'horde-transfer-'));
      store = await openStore({ client: 'sqlite', filename: join(dir, 'validator.sqlite') });
    }
    dir ??= mkdtempSync(join(tmpdir(), 'horde-transfer-'));
    pages = new ReceiptPages(join(dir, 'receipts'), () => now);
    app = await createMinerServer({
      pages,
      metrics: createMetricsRegistry({ defaultMetrics: false }),
      logger: silentLogger(),
      handlers: { onValidator: (s) => s.close(), onExecutor: (s) => s.close(), health: () => ({}) },
    });
    app.addHook('onRequest', async (request) => {
      requests.push({ url: request.url, range: request.headers.range, encoding: request.headers['accept-encoding'] as string | undefined });
    });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    source = { endpoint: address.replace('http://', ''), baseUrl: address, hotkeys: new Set([miner.ss58]) };
  });
  afterAll(async () => {
    await app.close();
    await store.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    requests.length = 0;
  });

  it('catches up on closed pages gzipped, keeps up on the active ones with Range, and stores each receipt once', async () => {
    // Three pages: two closed (one 20 minutes back, one just before the active ones) and the current.
    now = T0;
    await pages.append([started(now), started(now + 1), accepted(now + 2)]);
    now = T0 + 4 * PAGE_MS;
    await pages.append([started(now)]);
    now = T0 + 6 * PAGE_MS;
    await pages.append([started(now), started(now + 5)]);
    const currentPage = receiptPageAt(now);

    const run = transfer();
    const first = await run.catchUp();
    expect(first).toMatchObject({ lines: 6, stored: 6, refused: 0, failedFetches: 0 });
    const repository = new TransferredReceiptsRepository(store, validator.ss58);
    expect(await repository.count()).toBe(6);

    // Closed pages were asked for gzipped and the miner served them from a .jsonl.gz it made once.
    const closedPage = receiptPageAt(T0);
    expect(requests.find((r) => r.url === `/receipts/${closedPage}.jsonl`)?.encoding).toBe('gzip');
    expect(existsSync(`${pages.pagePath(closedPage)}.gz`)).toBe(true);
    expect(requests.find((r) => r.url === `/receipts/${currentPage}.jsonl`)?.encoding).toBe('identity');
    // Closed pages read to their end are complete; the active one has its byte offset.
    const checkpoints = await repository.checkpoints(source.endpoint);
    expect(checkpoints.get(closedPage)).toEqual({ page: closedPage, offset: await pageSize(pages, closedPage), complete: true });
    expect(checkpoints.get(currentPage)?.complete).toBe(false);
    expect(checkpoints.get(currentPage)?.offset).toBe(await pageSize(pages, currentPage));

    // Keep-up: nothing new is 416 from the checkpoint, then only the appended line comes back.
    requests.length = 0;
    expect(await run.keepUp()).toMatchObject({ lines: 0, stored: 0 });
    expect(requests.map((r) => r.range)).toContain(`bytes=${await pageSize(pages, currentPage)}-`);
    const size = await pageSize(pages, currentPage);
    await pages.append([started(now + 10)]);
    requests.length = 0;
    expect(await run.keepUp()).toMatchObject({ lines: 1, stored: 1 });
    expect(requests.find((r) => r.url === `/receipts/${currentPage}.jsonl`)?.range).toBe(`bytes=${size}-`);
    expect(await repository.count()).toBe(7);

    // A second catch-up over the same pages fetches no complete page again and stores nothing twice.
    requests.length = 0;
    expect(await run.catchUp()).toMatchObject({ stored: 0 });
    expect(requests.some((r) => r.url === `/receipts/${closedPage}.jsonl`)).toBe(false);
    expect(await repository.count()).toBe(7);

    // Every page read was counted for the source (each fetch adds to the same row).
    const [counted] = await repository.sourceStats();
    expect(counted).toMatchObject({
      endpoint: source.endpoint,
      minerHotkeys: [miner.ss58],
      stored: 7,
      refused: 0,
      fetchFailures: 0,
      lastFetchAt: now,
      lastCheckpointAt: now,
    });
    // Two catch-ups over 5 h of 5-minute pages (the second skips the complete ones) and two keep-ups.
    expect(counted!.pages).toBeGreaterThan(60);
  });

  it('goes on from its checkpoints after a restart', async () => {
    const repository = new TransferredReceiptsRepository(store, validator.ss58);
    const before = await repository.count();
    const currentPage = receiptPageAt(now);
    const size = await pageSize(pages, currentPage);
    await pages.append([started(now + 20), started(now + 21)]);

    // A new transfer on the same store: what a restarted validator builds.
    const restarted = transfer();
    requests.length = 0;
    expect(await restarted.catchUp()).toMatchObject({ lines: 2, stored: 2 });
    expect(requests.find((r) => r.url === `/receipts/${currentPage}.jsonl`)?.range).toBe(`bytes=${size}-`);
    expect(await repository.count()).toBe(before + 2);

    // A store that lost its checkpoints reads everything again and still stores nothing twice.
    await store.db('validator_receipt_checkpoints').delete();
    expect(await transfer().catchUp()).toMatchObject({ stored: 0 });
    expect(await repository.count()).toBe(before + 2);
  });

  it("counts the executors other validators' organic jobs hold on a miner (busy-executor accounting)", async () => {
    const repository = new TransferredReceiptsRepository(store, stranger.ss58);
    const at = T0 + 40 * PAGE_MS;
    const job = (
      id: string,
      startMs: number,
      acceptedTtl: number | null,
      finishedMs: number | null,
    ): Array<Receipt & { miner_signature: string }> => {
      const fields = { jobUuid: id, minerHotkey: miner.ss58 };
      const receipts = [
        countersignReceipt(
          createJobStartedReceipt(
            { ...fields, executorClass: 'always_on.test', isOrganic: true, ttl: 7, timestamp: datetimeFromEpochMicros(startMs * 1000) },
            validator,
          ),
          miner,
        ),
      ];
      if (acceptedTtl !== null) {
        const acceptedAt = datetimeFromEpochMicros((startMs + 1000) * 1000);
        receipts.push(
          countersignReceipt(
            createJobAcceptedReceipt({ ...fields, timeAccepted: acceptedAt, timestamp: acceptedAt, ttl: acceptedTtl }, validator),
            miner,
          ),
        );
      }
      if (finishedMs !== null) {
        receipts.push(
          countersignReceipt(
            createJobFinishedReceipt(
              {
                ...fields,
                timeStarted: datetimeFromEpochMicros(startMs * 1000),
                timeTookUs: (finishedMs - startMs) * 1000,
                score: 0,
                timestamp: datetimeFromEpochMicros(finishedMs * 1000),
              },
              validator,
            ),
            miner,
          ),
        );
      }
      return receipts as Array<Receipt & { miner_signature: string }>;
    };
    await repository.insert(
      [
        ...job('busy-just-started', at - 3_000, null, null), // its own 7 s cover `at`
        ...job('busy-long', at - 20 * 60_000, 3_600, null), // accepted for an hour, 20 minutes ago
        ...job('long-but-finished', at - 20 * 60_000, 3_600, at - 60_000),
        ...job('reservation-over', at - 20 * 60_000, 600, null),
      ],
      at,
    );
    const query = { executorClass: 'always_on.test', at, lookbackMs: 2 * 3_600_000 };
    expect(await repository.busyExecutors({ ...query, exceptValidator: stranger.ss58 })).toEqual(new Map([[miner.ss58, 2]]));
    // This validator's own jobs are counted by its router already.
    expect(await repository.busyExecutors({ ...query, exceptValidator: validator.ss58 })).toEqual(new Map());
    expect(await repository.busyExecutors({ ...query, executorClass: 'always_on.gpu-24gb', exceptValidator: stranger.ss58 })).toEqual(
      new Map(),
    );
  });

  it('runs on its interval once started and stops on close', async () => {
    const repository = new TransferredReceiptsRepository(store, validator.ss58);
    const before = await repository.count();
    const run = transfer();
    run.start();
    await pages.append([started(now + 30)]);
    const deadline = Date.now() + 5_000;
    while ((await repository.count()) < before + 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await run.close();
    expect(await repository.count()).toBe(before + 1);
  });
});

async function pageSize(pages: ReceiptPages, page: number): Promise<number> {
  const { stat } = await import('node:fs/promises');
  return (await stat(pages.pagePath(page))).size;
}

describe('receipt transfer from a miner that misbehaves', () => {
  let store: Store;
  let server: TestHttpServer;
  let body: (page: number, res: import('node:http').ServerResponse) => void;
  const now = T0 + 6 * PAGE_MS;
  const clock: Clock = { now: () => now, sleep: async () => undefined };

  beforeAll(async () => {
    store = await openStore({ client: 'sqlite', filename: ':memory:' });
    server = await startHttpServer((req, res) => {
      const page = Number(/(\d+)\.jsonl/.exec(req.url ?? '')?.[1]);
      if (page !== receiptPageAt(now)) {
        res.writeHead(404).end();
        return;
      }
      body(page, res);
    });
  });
  afterAll(async () => {
    await server.close();
    await store.close();
  });

  const run = (overrides: Partial<ReceiptTransferSettings> = {}, onPageRead?: (report: PageReadReport) => void) =>
    new ReceiptTransfer({
      repository: new TransferredReceiptsRepository(store, validator.ss58),
      verifier: new InThreadVerifier(),
      sources: async () => [{ endpoint: server.url.replace('http://', ''), baseUrl: server.url, hotkeys: new Set([miner.ss58]) }],
      clock,
      logger,
      settings: { ...settings, ...overrides },
      ...(onPageRead ? { onPageRead } : {}),
    });

  it('refuses garbage, tampered, foreign and forged lines one by one and stores the good ones', async () => {
    const good = [started(now), started(now + 1)];
    const tampered = started(now + 2);
    (tampered.payload as { ttl: number }).ttl = 600; // the miner stretches its excuse
    const forged = started(now + 3, stranger);
    (forged.payload as { validator_hotkey: string }).validator_hotkey = validator.ss58; // signed by Eve, claims Bob
    const foreign = countersignReceipt(
      createJobStartedReceipt(
        { jobUuid: 'foreign', minerHotkey: stranger.ss58, executorClass: 'always_on.test', isOrganic: true, ttl: 7 },
        validator,
      ),
      stranger,
    );
    const badMinerSignature = { ...started(now + 4), miner_signature: started(now + 5).miner_signature };
    const lines = [
      receiptLine(good[0]!),
      'this is not json',
      '{"payload": {"receipt_type": "JobStartedReceipt"}}',
      receiptLine(tampered),
      receiptLine(forged),
      receiptLine(foreign),
      receiptLine(badMinerSignature),
      '',
      receiptLine(good[1]!),
    ];
    body = (_page, res) => res.writeHead(200).end(`${lines.join('\n')}\n`);
    const reports: PageReadReport[] = [];
    const stats = await run({}, (report) => reports.push(report)).catchUp();
    expect(stats).toMatchObject({ lines: 8, stored: 2, refused: 6 });
    // What the validator's metrics count (horde_validator_receipts_transferred/refused_total).
    const refusedByReason = reports.flatMap((r) => Object.values(r.refused)).reduce((sum, n) => sum + (n ?? 0), 0);
    expect(reports.reduce((sum, r) => sum + r.stored, 0)).toBe(2);
    expect(refusedByReason).toBe(6);
    const rows = await store.db('validator_transferred_receipts').select('job_uuid');
    expect(rows.map((r) => r.job_uuid).sort()).toEqual([good[0]!.payload.job_uuid, good[1]!.payload.job_uuid].sort());

    // The source's counters (the validator dashboard's receipts section), by reason.
    const [stats_] = await new TransferredReceiptsRepository(store, validator.ss58).sourceStats();
    expect(stats_).toMatchObject({
      endpoint: server.url.replace('http://', ''),
      minerHotkeys: [miner.ss58],
      stored: 2,
      refused: 6,
      refusedByReason: { not_json: 1, bad_shape: 1, bad_validator_signature: 2, other_miner: 1, bad_miner_signature: 1 },
      fetchFailures: 0,
      lastFetchAt: now,
      lastError: null,
    });
    expect(stats_!.lastCheckpointAt).toBe(now);
    expect(await new TransferredReceiptsRepository(store, validator.ss58).countsByIssuer()).toEqual([
      { validatorHotkey: validator.ss58, receiptType: 'JobStartedReceipt', count: 2 },
    ]);
  });

  it('stops a page that never ends at the timeout and keeps the whole lines before it', async () => {
    await store.db('validator_receipt_checkpoints').delete();
    const line = receiptLine(started(now + 10));
    let timer: NodeJS.Timeout | undefined;
    body = (_page, res) => {
      res.writeHead(200);
      res.write(`${line}\n`);
      // Then a line that drips forever.
      timer = setInterval(() => res.write('x'), 20);
      res.on('close', () => clearInterval(timer));
    };
    const started_ = Date.now();
    const stats = await run({ catchUpTimeoutMs: 500 }).catchUp();
    clearInterval(timer);
    expect(Date.now() - started_).toBeLessThan(10_000); // 500 ms, with room for a loaded machine
    expect(stats).toMatchObject({ lines: 1, stored: 1, failedFetches: 1 });
    const checkpoint = (await new TransferredReceiptsRepository(store, validator.ss58).checkpoints(server.url.replace('http://', ''))).get(
      receiptPageAt(now),
    );
    expect(checkpoint?.offset).toBe(Buffer.byteLength(line) + 1);
  });

  it('stops a page that floods bytes without a newline', async () => {
    await store.db('validator_receipt_checkpoints').delete();
    body = (_page, res) => {
      res.writeHead(200);
      res.end('y'.repeat(200_000));
    };
    const stats = await run().catchUp();
    expect(stats).toMatchObject({ lines: 0, failedFetches: 1 });
  });

  it('treats a redirect, an error status or a Range answer for other bytes as a failed fetch', async () => {
    for (const reply of [
      (res: import('node:http').ServerResponse) => res.writeHead(302, { location: 'http://169.254.169.254/' }).end(),
      (res: import('node:http').ServerResponse) => res.writeHead(500).end('boom'),
    ]) {
      body = (_page, res) => reply(res);
      expect(await run().keepUp()).toMatchObject({ stored: 0, failedFetches: 1 });
    }
    // From a stored checkpoint: a 206 starting elsewhere is refused rather than misread.
    await new TransferredReceiptsRepository(store, validator.ss58).saveCheckpoint(
      server.url.replace('http://', ''),
      { page: receiptPageAt(now), offset: 100, complete: false },
      now,
    );
    body = (_page, res) => res.writeHead(206, { 'content-range': 'bytes 0-9/10' }).end('0123456789');
    const stats = await run().keepUp();
    expect(stats.failedFetches).toBe(1);
    // Each failed fetch is counted for its source, with the last error.
    const source = (await new TransferredReceiptsRepository(store, validator.ss58).sourceStats()).find(
      (s) => s.endpoint === server.url.replace('http://', ''),
    )!;
    expect(source.fetchFailures).toBeGreaterThanOrEqual(3);
    expect(source.lastFailureAt).toBe(now);
    expect(source.lastError).toEqual(expect.any(String));
  });

  it('survives a miner that cannot be reached', async () => {
    const unreachable = new ReceiptTransfer({
      repository: new TransferredReceiptsRepository(store, validator.ss58),
      verifier: new InThreadVerifier(),
      sources: async () => [{ endpoint: '127.0.0.1:1', baseUrl: 'http://127.0.0.1:1', hotkeys: new Set([miner.ss58]) }],
      clock,
      logger,
      settings,
    });
    expect(await unreachable.keepUp()).toMatchObject({ stored: 0, failedFetches: 2 });
  });
});
