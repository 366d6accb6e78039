import { stat } from 'node:fs/promises';
import type { ExecutorManager } from '../contracts/index.js';
import {
  formatAgo,
  formatDuration,
  keyCell,
  statusCell,
  type Cell,
  type DashboardPage,
  type Section,
  type TableSection,
} from '../dashboard/view.js';
import type { PoolClassUsage } from './pool/executor-pool.js';
import { RECEIPT_PAGE_SECONDS, type ReceiptPages } from './receipts/pages.js';
import type { ReceiptServingTally, ServedAnswer } from './receipts/serving-tally.js';
import { isActiveJobStatus, type JobStatusChange, type MinerJob, type MinerJobsRepository, type MinerStore } from './store/index.js';

/** Jobs shown in the recent list. */
const RECENT_JOBS = 30;

/**
 * `waiting_for_executor 1.2 s → waiting_for_payload 0.4 s → running 2.0 s → finished`: how long
 * the job spent in each stage; the stage it is in now counts up to `now`.
 */
export function stageTimings(history: readonly JobStatusChange[], now: number): string {
  return history
    .map((change, i) => {
      const next = history[i + 1];
      if (!next && !isActiveJobStatus(change.status)) return change.status;
      // The page's `now` is taken before its reads: a stage begun between the two has run 0 ms so
      // far, not a negative time (as `formatAgo` counts it).
      return `${change.status} ${formatDuration(Math.max(0, (next?.at ?? now) - change.at))}`;
    })
    .join(' → ');
}

/** Why a miner job failed, in one cell: the error type, with the detail as its tooltip. */
function failureCell(job: MinerJob): Cell {
  if (job.status !== 'failed' && job.status !== 'rejected') return null;
  if (!job.errorType && !job.errorDetail) return null;
  return { text: job.errorType ?? 'failed', tone: 'bad', title: job.errorDetail ?? '' };
}

/** A miner's jobs repository, with the miner's name when several are shown together (the devnet). */
export interface MinerJobsSource {
  readonly miner?: string;
  readonly jobs: MinerJobsRepository;
}

/**
 * Live (in progress) and recent jobs of one or more miner stores, with their stage timings and
 * failure reasons. A miner shows its own; the devnet shows all of its miners' in one table.
 */
export async function minerJobsSections(sources: readonly MinerJobsSource[], now: number): Promise<[TableSection, TableSection]> {
  const named = sources.some((source) => source.miner !== undefined);
  const loaded = await Promise.all(
    sources.map(async (source) => {
      const [active, recent] = await Promise.all([source.jobs.active(), source.jobs.recent(RECENT_JOBS)]);
      const histories = await source.jobs.histories([...new Set([...active, ...recent].map((job) => job.jobUuid))]);
      return { miner: source.miner ?? '', active, recent, histories };
    }),
  );
  const minerColumn = named ? ['Miner'] : [];
  const active = loaded.flatMap((l) => l.active.map((job) => ({ ...l, job }))).sort((a, b) => a.job.createdAt - b.job.createdAt);
  const recent = loaded
    .flatMap((l) => l.recent.map((job) => ({ ...l, job })))
    .sort((a, b) => b.job.createdAt - a.job.createdAt)
    .slice(0, RECENT_JOBS);
  const live: TableSection = {
    kind: 'table',
    id: 'live-jobs',
    title: 'Live jobs',
    note: 'Jobs in progress, with the time spent in each stage so far.',
    columns: [...minerColumn, 'Job', 'Validator', 'Class', 'Status', 'Stages', 'Started'],
    rows: active.map(({ miner, job, histories }) => [
      ...(named ? [miner] : []),
      job.jobUuid.slice(0, 8),
      keyCell(job.validatorHotkey),
      job.executorClass,
      statusCell(job.status),
      stageTimings(histories.get(job.jobUuid) ?? [], now),
      formatAgo(job.createdAt, now),
    ]),
    empty: 'No job in progress.',
    wide: named,
  };
  const recentSection: TableSection = {
    kind: 'table',
    id: 'recent-jobs-wide',
    title: 'Recent jobs',
    note: `The last ${RECENT_JOBS} jobs, newest first; hover a failure for its detail.`,
    columns: [...minerColumn, 'Job', 'Validator', 'Class', 'Status', 'Stages', 'Failure', 'Score', 'When'],
    rows: recent.map(({ miner, job, histories }) => [
      ...(named ? [miner] : []),
      job.jobUuid.slice(0, 8),
      keyCell(job.validatorHotkey),
      job.executorClass,
      statusCell(job.status),
      stageTimings(histories.get(job.jobUuid) ?? [], now),
      failureCell(job),
      job.scoreStr,
      formatAgo(job.createdAt, now),
    ]),
    empty: 'No job yet.',
  };
  return [live, recentSection];
}

/** Pages listed in the served table: the newest ones (validators poll the two newest). */
const SERVED_PAGES_SHOWN = 12;

const ANSWER_LABELS: Readonly<Record<ServedAnswer, string>> = {
  full: '200',
  gzip: '200 gzip',
  partial: '206',
  nothing_new: '416',
  not_found: '404',
};

/** `03:05–03:10 UTC`: the receipt times a page holds. */
function pageSpan(page: number): string {
  const start = new Date(page * RECEIPT_PAGE_SECONDS * 1000);
  const end = new Date((page + 1) * RECEIPT_PAGE_SECONDS * 1000);
  return `${start.toISOString().slice(11, 16)}–${end.toISOString().slice(11, 16)} UTC`;
}

/**
 * What the receipt pages served since the miner started, per page (newest first): the pages on
 * disk and those asked for, how many fetches with which answers, bytes sent, and the last fetch.
 */
export async function receiptsServedSection(pages: ReceiptPages, serving: ReceiptServingTally, now: number): Promise<TableSection> {
  const onDisk = new Set(await pages.pages());
  const served = new Map(serving.byPage().map((p) => [p.page, p]));
  const shown = [...new Set([...onDisk, ...served.keys()])].sort((a, b) => b - a).slice(0, SERVED_PAGES_SHOWN);
  const rows = await Promise.all(
    shown.map(async (page): Promise<Cell[]> => {
      const size = onDisk.has(page)
        ? await stat(pages.pagePath(page)).then(
            (s) => s.size,
            () => null,
          )
        : null;
      const p = served.get(page);
      const answers = p
        ? (Object.entries(p.byAnswer) as Array<[ServedAnswer, number]>).map(([answer, n]) => `${ANSWER_LABELS[answer]} ×${n}`).join(', ')
        : null;
      return [
        page,
        pageSpan(page),
        size === null ? { text: 'not on disk', tone: 'muted' } : `${size} B`,
        p ? { text: String(p.fetches), tone: 'ok' } : '0',
        answers,
        p ? `${p.bytes} B` : null,
        p ? formatAgo(p.lastServedAt, now) : null,
        p?.lastClient ?? null,
      ];
    }),
  );
  const clients = serving.byClient();
  return {
    kind: 'table',
    id: 'receipts-served',
    title: 'Receipts served',
    note: `The receipt pages (/receipts/{page}.jsonl) since the miner started: ${serving.fetches} fetches by ${clients.length} address${clients.length === 1 ? '' : 'es'}${clients[0] ? `, last by ${clients[0].client} ${formatAgo(clients[0].lastServedAt, now)}` : ''}. 206 is new lines for a validator that keeps up, 416 nothing new.`,
    columns: ['Page', 'Holds', 'On disk', 'Fetches', 'Answers', 'Sent', 'Last served', 'Last by'],
    rows,
    empty: 'No receipt page yet: one is written with the first receipt a validator sends.',
  };
}

/** Receipts stored (countersigned, on the pages), by the validator that signed them and type. */
export async function receiptsStoredSection(store: MinerStore, now: number): Promise<TableSection> {
  const counts = await store.receipts.countsByValidatorAndType();
  const byValidator = new Map<string, { started: number; accepted: number; finished: number; newestAt: number }>();
  for (const row of counts) {
    const entry = byValidator.get(row.validatorHotkey) ?? { started: 0, accepted: 0, finished: 0, newestAt: 0 };
    if (row.receiptType === 'JobStartedReceipt') entry.started += row.count;
    else if (row.receiptType === 'JobAcceptedReceipt') entry.accepted += row.count;
    else entry.finished += row.count;
    entry.newestAt = Math.max(entry.newestAt, row.newestAt);
    byValidator.set(row.validatorHotkey, entry);
  }
  return {
    kind: 'table',
    id: 'receipts-stored',
    title: 'Receipts stored',
    note: 'Receipts validators sent, countersigned and kept for the retention, by validator and type: the evidence other validators pull.',
    columns: ['Validator', 'Started', 'Accepted', 'Finished', 'Total', 'Newest'],
    rows: [...byValidator].map(([validator, c]): Cell[] => [
      keyCell(validator),
      c.started,
      c.accepted,
      c.finished,
      c.started + c.accepted + c.finished,
      formatAgo(c.newestAt, now),
    ]),
    empty: 'No receipt stored yet.',
  };
}

export interface MinerPageDeps {
  readonly hotkeys: readonly string[];
  readonly url: () => string;
  readonly store: MinerStore;
  readonly usage: () => Record<string, PoolClassUsage>;
  readonly manager: ExecutorManager;
  readonly connectedValidators: () => readonly string[];
  readonly now: () => number;
  /** The receipt pages and what they served: the receipts sections. */
  readonly receipts?: { readonly pages: ReceiptPages; readonly serving: ReceiptServingTally };
}

/** The miner's dashboard: executors per class and manager, jobs, validators, receipts. */
export async function minerPage(deps: MinerPageDeps): Promise<DashboardPage> {
  const now = deps.now();
  const usage = deps.usage();
  const managerName = deps.manager.constructor.name;
  const fleet = deps.manager.fleet?.() ?? [];
  const [jobs, recent] = await minerJobsSections([{ jobs: deps.store.jobs }], now);
  const [validators, blacklisted, receipts] = await Promise.all([
    deps.store.validators.list(),
    deps.store.validators.blacklisted(),
    deps.store.receipts.count(),
  ]);
  const connected = deps.connectedValidators();
  const capacity = Object.values(usage).reduce((sum, u) => sum + u.capacity, 0);
  const used = Object.values(usage).reduce((sum, u) => sum + u.used, 0);
  const costPerHour = fleet.reduce((sum, entry) => sum + (entry.dollarsPerHour ?? 0), 0);
  const sections: Section[] = [
    {
      kind: 'table',
      id: 'executors',
      title: 'Executors by class',
      note: `Manager ${managerName}: what its manifest declares and how many are reserved or running now.`,
      columns: ['Class', 'Manager', 'Declared', 'Busy', 'Free'],
      rows: Object.entries(usage).map(([executorClass, u]) => [
        executorClass,
        managerName,
        u.capacity,
        { text: String(u.used), tone: u.used > 0 ? 'ok' : 'muted' },
        Math.max(0, u.capacity - u.used),
      ]),
      empty: 'The executor manager declares no executors.',
    },
    ...(fleet.length > 0
      ? [
          {
            kind: 'table' as const,
            id: 'fleet',
            title: 'Machines',
            note: 'What the executor manager runs executors on, as it last saw them.',
            columns: ['Machine', 'Class', 'State', 'Executors', 'Cost', 'Detail'],
            rows: fleet.map((entry): Cell[] => [
              entry.id,
              entry.executorClass,
              statusCell(entry.state),
              entry.executors,
              entry.dollarsPerHour === undefined ? null : `$${entry.dollarsPerHour.toFixed(3)}/h`,
              entry.detail ?? null,
            ]),
            empty: '',
          },
        ]
      : []),
    jobs,
    recent,
    {
      kind: 'table',
      id: 'validators',
      title: 'Validators',
      note: 'Every validator that authenticated; connected ones have a websocket open now.',
      columns: ['Validator', 'Connected', 'First seen', 'Last seen', 'Debug'],
      rows: validators.map((v) => [
        keyCell(v.hotkey),
        connected.includes(v.hotkey)
          ? { text: `yes (${connected.filter((h) => h === v.hotkey).length})`, tone: 'ok' }
          : { text: 'no', tone: 'muted' },
        formatAgo(v.firstSeenAt, now),
        formatAgo(v.lastSeenAt, now),
        v.debug ? 'yes' : 'no',
      ]),
      empty: 'No validator has connected yet.',
    },
    {
      kind: 'table',
      id: 'blacklist',
      title: 'Blacklisted validators',
      columns: ['Validator', 'Reason', 'Since'],
      rows: blacklisted.map((b) => [keyCell(b.hotkey), b.reason, formatAgo(b.createdAt, now)]),
      empty: 'No validator is blacklisted.',
    },
    await receiptsStoredSection(deps.store, now),
    ...(deps.receipts ? [await receiptsServedSection(deps.receipts.pages, deps.receipts.serving, now)] : []),
  ];
  return {
    title: 'horde miner',
    subtitle: `${deps.hotkeys.join(', ')} · ${deps.url()}`,
    tiles: [
      { label: 'Executors busy', value: `${used} / ${capacity}`, tone: capacity === 0 ? 'warn' : used > 0 ? 'ok' : undefined },
      { label: 'Jobs in progress', value: String(jobs.rows.length) },
      { label: 'Validators connected', value: String(new Set(connected).size), tone: connected.length > 0 ? 'ok' : 'muted' },
      { label: 'Receipts stored', value: String(receipts), hint: 'Receipts countersigned and served on the receipt pages' },
      ...(deps.receipts
        ? [
            {
              label: 'Receipt fetches',
              value: String(deps.receipts.serving.fetches),
              hint: 'Receipt page requests served since the miner started',
            },
          ]
        : []),
      ...(fleet.length > 0
        ? [
            {
              label: 'Machines healthy',
              value: `${fleet.filter((f) => f.state === 'healthy' || f.state === 'running').length} / ${fleet.length}`,
            },
          ]
        : []),
      ...(costPerHour > 0 ? [{ label: 'Cost', value: `$${costPerHour.toFixed(2)}/h` }] : []),
    ],
    sections,
  };
}
