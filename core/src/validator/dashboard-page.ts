import type { Metagraph } from '../contracts/index.js';
import { lineChartSvg, type ChartSeries } from '../dashboard/chart.js';
import {
  formatAgo,
  formatDuration,
  keyCell,
  statusCell,
  type Cell,
  type ChartSection,
  type DashboardPage,
  type Section,
  type TableSection,
  type Tile,
} from '../dashboard/view.js';
import type { TransferredReceiptsRepository } from './receipts/store.js';
import type { ValidatorProgress } from './service.js';
import { pointsByRule, type ValidatorStore } from './store.js';
import { collateralSection, type CollateralView } from './dashboard-collateral.js';

/** The job's id in a table: its first 8 characters, linking to its page (`jobs/<uuid>`). */
function jobCell(jobUuid: string): Cell {
  return { text: jobUuid.slice(0, 8), title: jobUuid, href: `jobs/${encodeURIComponent(jobUuid)}` };
}

/** Cycles the weights chart and the batch table go back. */
const HISTORY_CYCLES = 30;

/** Miners with their manifest per class (from the latest batch) and how their jobs of that cycle went. */
export async function minersSection(store: ValidatorStore, metagraph: Metagraph | null): Promise<TableSection> {
  const cycle = await store.latestManifestCycle();
  const manifests = cycle === null ? {} : await store.manifests(cycle);
  const jobs = cycle === null ? [] : await store.jobs({ cycle, limit: 10_000 });
  const uidOf = new Map(metagraph?.neurons.map((n) => [n.hotkey, n]) ?? []);
  const hotkeys = new Set([...Object.keys(manifests), ...jobs.map((j) => j.minerHotkey)]);
  const rows = [...hotkeys].sort().map((hotkey): Cell[] => {
    const mine = jobs.filter((j) => j.minerHotkey === hotkey);
    const count = (status: string) => mine.filter((j) => j.status === status).length;
    const correct = mine.filter((j) => j.status === 'completed' && j.correct === true).length;
    const wrong = mine.filter((j) => j.status === 'completed' && j.correct === false).length;
    const neuron = uidOf.get(hotkey);
    const classes = Object.entries(manifests[hotkey] ?? {})
      .map(([executorClass, n]) => `${executorClass} ×${n}`)
      .join(', ');
    return [
      neuron?.uid ?? null,
      keyCell(hotkey),
      neuron?.axon ? `${neuron.axon.ip}:${neuron.axon.port}` : null,
      classes || { text: 'no manifest', tone: 'warn' },
      { text: String(correct), tone: correct > 0 ? 'ok' : 'muted' },
      wrong > 0 ? { text: String(wrong), tone: 'bad' } : '0',
      count('failed') + count('horde_failed') > 0 ? { text: String(count('failed') + count('horde_failed')), tone: 'bad' } : '0',
      count('rejected') > 0 ? { text: String(count('rejected')), tone: 'warn' } : '0',
    ];
  });
  return {
    kind: 'table',
    id: 'miners',
    title: 'Miners',
    note: cycle === null ? 'Known once the first batch has run.' : `Manifests per class and job outcomes of the batch of cycle ${cycle}.`,
    columns: ['UID', 'Hotkey', 'Axon', 'Manifest', 'Correct', 'Wrong', 'Failed', 'Rejected'],
    rows,
    empty: "No miner tested yet: the first batch runs in this validator's slot of the cycle.",
  };
}

export async function batchesSection(store: ValidatorStore): Promise<TableSection> {
  const batches = await store.recentBatches(10);
  const counts = await store.jobCountsByCycle(batches.map((b) => b.cycle));
  return {
    kind: 'table',
    id: 'batches',
    title: 'Batches',
    note: 'One synthetic batch per cycle; job counts by outcome.',
    columns: ['Cycle', 'Block', 'Status', 'Miners', 'Jobs', 'Completed', 'Failed', 'Horde failed', 'Rejected', 'Took'],
    rows: batches.map((b) => {
      const c = counts.get(b.cycle) ?? {};
      return [
        b.cycle,
        b.block,
        statusCell(b.status),
        b.miners,
        b.jobs,
        c.completed ?? 0,
        c.failed ?? 0,
        c.horde_failed ?? 0,
        c.rejected ?? 0,
        b.finishedAt === null ? '-' : formatDuration(b.finishedAt - b.startedAt),
      ];
    }),
    empty: 'No batch yet.',
  };
}

function failureText(failure: { source: string; reason: string; stage: string | null } | null): Cell {
  if (!failure) return null;
  return {
    text: `${failure.reason}${failure.stage ? ` · ${failure.stage}` : ''}`,
    tone: 'bad',
    title: `reported by the ${failure.source}`,
  };
}

export async function jobsSection(store: ValidatorStore, now: number): Promise<TableSection> {
  const jobs = await store.jobs({ limit: 30 });
  return {
    kind: 'table',
    id: 'jobs-wide',
    title: 'Recent jobs',
    note: "Newest first; a failed job shows its reason and the stage it failed in. A job's id opens its page with its status history.",
    columns: ['Cycle', 'Job', 'Miner', 'Class', 'Kind', 'Status', 'Verdict', 'Took', 'Why it failed', 'When'],
    rows: jobs.map((job) => [
      job.cycle,
      jobCell(job.jobUuid),
      keyCell(job.minerHotkey),
      job.executorClass,
      job.kind,
      statusCell(job.status),
      job.status !== 'completed'
        ? null
        : job.correct === false
          ? { text: 'wrong', tone: 'bad' }
          : job.correct === true
            ? { text: 'correct', tone: 'ok' }
            : 'unchecked',
      formatDuration(job.timeTookMs),
      failureText(job.failure),
      formatAgo(job.createdAt, now),
    ]),
    empty: 'No job yet.',
  };
}

export async function failuresSection(store: ValidatorStore, now: number): Promise<TableSection> {
  const failed = await store.failedJobs({ limit: 20 });
  return {
    kind: 'table',
    id: 'failures',
    title: 'Why jobs failed',
    note: 'The last failed jobs: who reported the failure, its reason, stage and message (horde validator jobs --failed).',
    columns: ['Cycle', 'Job', 'Miner', 'By', 'Reason', 'Stage', 'Message', 'When'],
    rows: failed.map((job) => [
      job.cycle,
      jobCell(job.jobUuid),
      keyCell(job.minerHotkey),
      job.failure.source,
      { text: job.failure.reason, tone: 'bad' },
      job.failure.stage,
      job.failure.message.slice(0, 160),
      formatAgo(job.createdAt, now),
    ]),
    empty: 'No failed job.',
  };
}

export async function refusalsSection(store: ValidatorStore, now: number): Promise<TableSection> {
  const rejected = (await store.jobs({ limit: 200 })).filter((job) => job.status === 'rejected').slice(0, 20);
  return {
    kind: 'table',
    id: 'refusals',
    title: 'Refusals',
    note: 'Jobs miners declined, with their reason (busy excuses are checked against receipts).',
    columns: ['Cycle', 'Job', 'Miner', 'Class', 'Reason', 'When'],
    rows: rejected.map((job) => [
      job.cycle,
      jobCell(job.jobUuid),
      keyCell(job.minerHotkey),
      job.executorClass,
      job.details.slice(0, 160),
      formatAgo(job.createdAt, now),
    ]),
    empty: 'No refusal.',
  };
}

/** The score table of the last scored cycle: each hotkey's points after each rule, and its weight. */
export async function scoresSection(store: ValidatorStore): Promise<TableSection> {
  const cycle = await store.latestScoredCycle();
  const [steps, scores] = cycle === null ? [[], []] : await Promise.all([store.scoreSteps(cycle), store.scores(cycle)]);
  const { rules, totals } = pointsByRule(steps);
  return {
    kind: 'table',
    id: 'scores',
    title: cycle === null ? 'Scores by rule' : `Scores by rule, cycle ${cycle}`,
    note: "Each hotkey's points after each scoring rule (summed over classes), then its weight.",
    columns: ['UID', 'Hotkey', ...rules, 'Weight'],
    rows: scores.map((score) => [
      score.uid,
      keyCell(score.hotkey),
      ...rules.map((_r, i) => Number((totals.get(score.hotkey)?.[i] ?? 0).toPrecision(4))),
      score.weight.toFixed(4),
    ]),
    empty: 'No cycle scored yet: a cycle is scored when the next one begins.',
  };
}

/** Weights over time: one line per uid, x the cycle, from the weights that landed (set or committed). */
export async function weightsChartSection(store: ValidatorStore, metagraph: Metagraph | null): Promise<ChartSection> {
  const history = await store.weightsHistory(HISTORY_CYCLES);
  const hotkeyOf = new Map(metagraph?.neurons.map((n) => [n.uid, n.hotkey]) ?? []);
  const byUid = new Map<number, { x: number; y: number }[]>();
  for (const row of history)
    row.uids.forEach((uid, i) => {
      const points = byUid.get(uid) ?? [];
      points.push({ x: row.cycle, y: row.weights[i] ?? 0 });
      byUid.set(uid, points);
    });
  const series: ChartSeries[] = [...byUid]
    .sort(([a], [b]) => a - b)
    .map(([uid, points]) => {
      const hotkey = hotkeyOf.get(uid);
      return { label: hotkey ? `uid ${uid} ${hotkey.slice(0, 6)}…` : `uid ${uid}`, points };
    });
  const last = history.at(-1);
  return {
    kind: 'chart',
    id: 'weights',
    title: 'Weights over time',
    note: last
      ? `Last put on chain: cycle ${last.cycle}, ${last.status} at block ${last.block}${last.revealBlock !== null ? `, reveal due at block ${last.revealBlock}` : ''}.`
      : undefined,
    svg: series.length === 0 ? null : lineChartSvg(series, { xLabel: 'cycle', yLabel: 'weight', yMax: 1 }),
    empty: 'No weights set yet.',
  };
}

/** `bad_miner_signature 2 · not_json 1`, most first. */
function reasonsText(byReason: Readonly<Record<string, number>>): string {
  return Object.entries(byReason)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([reason, n]) => `${reason} ${n}`)
    .join(' · ');
}

/**
 * Receipt transfer per miner endpoint: receipts pulled and stored, lines refused (by reason),
 * failed fetches with the last error, the last fetch and the last checkpoint that moved.
 */
export async function receiptSourcesSection(receipts: TransferredReceiptsRepository, now: number): Promise<TableSection> {
  const sources = await receipts.sourceStats();
  return {
    kind: 'table',
    id: 'receipts-wide',
    title: 'Receipts transferred',
    note: 'Per miner endpoint: receipts pulled from its pages and stored (both signatures checked), lines refused by reason, failed fetches, the last fetch and the last checkpoint.',
    columns: [
      'Endpoint',
      'Miner hotkeys',
      'Pages read',
      'Transferred',
      'Refused',
      'Refused by reason',
      'Fetch failures',
      'Last error',
      'Last fetch',
      'Last checkpoint',
    ],
    rows: sources.map((source): Cell[] => [
      source.endpoint,
      source.minerHotkeys.length === 1
        ? keyCell(source.minerHotkeys[0]!)
        : { text: `${source.minerHotkeys.length} hotkeys`, title: source.minerHotkeys.join('\n') },
      source.pages,
      { text: String(source.stored), tone: source.stored > 0 ? 'ok' : 'muted' },
      source.refused > 0 ? { text: String(source.refused), tone: 'bad' } : '0',
      source.refused > 0 ? reasonsText(source.refusedByReason) : null,
      source.fetchFailures > 0 ? { text: String(source.fetchFailures), tone: 'warn' } : '0',
      source.lastError === null
        ? null
        : {
            text: source.lastError.slice(0, 60),
            title: `${source.lastError}${source.lastFailureAt !== null ? ` (${formatAgo(source.lastFailureAt, now)})` : ''}`,
          },
      formatAgo(source.lastFetchAt, now),
      formatAgo(source.lastCheckpointAt, now),
    ]),
    empty: 'No receipt page read yet: transfer starts with the validator (validator.receiptTransfer).',
  };
}

/** Receipts stored per validator that issued them, by type: whose work the pulled receipts prove. */
export async function receiptIssuersSection(receipts: TransferredReceiptsRepository, ownHotkey: string): Promise<TableSection> {
  const counts = await receipts.countsByIssuer();
  const byValidator = new Map<string, Record<string, number>>();
  for (const row of counts) byValidator.set(row.validatorHotkey, { ...byValidator.get(row.validatorHotkey), [row.receiptType]: row.count });
  const types = ['JobStartedReceipt', 'JobAcceptedReceipt', 'JobFinishedReceipt'];
  return {
    kind: 'table',
    id: 'receipts-by-validator',
    title: 'Transferred receipts by validator',
    note: 'Receipts stored from every miner, by the validator that signed them (this one included).',
    columns: ['Validator', 'Started', 'Accepted', 'Finished', 'Total'],
    rows: [...byValidator].map(([validator, byType]): Cell[] => [
      validator === ownHotkey ? { text: `${validator.slice(0, 8)}… (this validator)`, title: validator } : keyCell(validator),
      ...types.map((type) => byType[type] ?? 0),
      Object.values(byType).reduce((sum, n) => sum + n, 0),
    ]),
    empty: 'No receipt transferred yet.',
  };
}

/**
 * One job's page (`/jobs/<uuid>`): what it was, how it ended and why, and every status it went
 * through with its time. Null when this validator stored no such job.
 */
export async function validatorJobPage(store: ValidatorStore, jobUuid: string, now: number): Promise<DashboardPage | null> {
  const [job] = await store.jobs({ jobUuid, limit: 1 });
  if (!job) return null;
  const history = await store.jobHistory(job.jobUuid);
  const first = history[0]?.at ?? null;
  const sections: Section[] = [
    {
      kind: 'table',
      id: 'history-wide',
      title: 'Status history',
      note: 'Each status the job went through, as this validator saw it: since the initial request was sent, and the time of each step.',
      columns: ['At', 'Since sent', 'Step', 'Status', 'Detail'],
      rows: history.map((t, i): Cell[] => [
        new Date(t.at).toISOString().replace('T', ' ').replace('Z', ' UTC'),
        first === null ? null : formatDuration(t.at - first),
        i === 0 ? null : formatDuration(t.at - history[i - 1]!.at),
        statusCell(t.status),
        t.detail,
      ]),
      empty: 'No status history: the job was stored before histories were kept.',
    },
  ];
  if (job.failure) {
    sections.push({
      kind: 'table',
      id: 'failure-wide',
      title: 'Why it failed',
      columns: ['Reported by', 'Reason', 'Stage', 'Message'],
      rows: [[job.failure.source, { text: job.failure.reason, tone: 'bad' }, job.failure.stage, job.failure.message.slice(0, 2000)]],
      empty: '',
    });
  }
  const tiles: Tile[] = [
    {
      label: 'Status',
      value: job.status,
      tone: job.status === 'completed' ? (job.correct === false ? 'bad' : 'ok') : job.status === 'rejected' ? 'warn' : 'bad',
    },
    {
      label: 'Verdict',
      value: job.status !== 'completed' ? '-' : job.correct === true ? 'correct' : job.correct === false ? 'wrong' : 'unchecked',
      ...(job.correct === false ? { tone: 'bad' as const } : {}),
    },
    { label: 'Miner', value: job.minerHotkey, hint: job.minerHotkey },
    { label: 'Class', value: job.executorClass },
    { label: 'Kind · cycle', value: `${job.kind} · ${job.cycle}` },
    { label: 'Took', value: formatDuration(job.timeTookMs) },
    { label: 'Stored', value: formatAgo(job.createdAt, now) },
  ];
  return { title: `Job ${job.jobUuid}`, subtitle: job.details.slice(0, 300), tiles, sections };
}

export interface ValidatorPageDeps {
  readonly hotkey: string;
  readonly netuid: number;
  readonly store: ValidatorStore;
  /** Receipt transfer's store: the receipts sections. */
  readonly receipts: TransferredReceiptsRepository;
  readonly progress: () => ValidatorProgress;
  readonly metagraph: () => Promise<Metagraph | null>;
  readonly now: () => number;
  /** Miner collateral, when `validator.collateral` is on. */
  readonly collateral?: () => CollateralView | null;
}

/** Every validator section, in page order (the devnet's page reuses them). */
export async function validatorSections(
  store: ValidatorStore,
  receipts: TransferredReceiptsRepository,
  metagraph: Metagraph | null,
  now: number,
): Promise<Section[]> {
  return Promise.all([
    minersSection(store, metagraph),
    weightsChartSection(store, metagraph),
    batchesSection(store),
    scoresSection(store),
    jobsSection(store, now),
    failuresSection(store, now),
    refusalsSection(store, now),
    receiptSourcesSection(receipts, now),
    receiptIssuersSection(receipts, receipts.validatorHotkey),
  ]);
}

export async function validatorPage(deps: ValidatorPageDeps): Promise<DashboardPage> {
  const now = deps.now();
  const progress = deps.progress();
  const metagraph = await deps.metagraph().catch(() => null);
  const sections = await validatorSections(deps.store, deps.receipts, metagraph, now);
  const collateral = deps.collateral?.() ?? null;
  if (collateral) sections.splice(1, 0, collateralSection(collateral, now));
  const failedLast = progress.lastBatch ? (await deps.store.failedJobs({ cycle: progress.lastBatch.cycle, limit: 10_000 })).length : 0;
  const weights = progress.lastWeights;
  const tiles: Tile[] = [
    { label: 'Block', value: progress.block === null ? '-' : String(progress.block) },
    { label: 'Cycle', value: progress.cycle === null ? '-' : String(progress.cycle) },
    { label: 'Phase', value: progress.phase, tone: progress.phase === 'idle' ? 'muted' : 'ok' },
    { label: 'Last batch', value: progress.lastBatch ? `${progress.lastBatch.jobs} jobs · ${progress.lastBatch.miners} miners` : '-' },
    { label: 'Failed (last batch)', value: String(failedLast), tone: failedLast > 0 ? 'bad' : 'ok' },
    {
      label: 'Last weights',
      value: weights ? `cycle ${weights.cycle}: ${weights.result?.status ?? 'none'}` : '-',
      tone: weights?.result ? 'ok' : weights ? 'warn' : undefined,
    },
  ];
  return { title: 'horde validator', subtitle: `${deps.hotkey} · netuid ${deps.netuid}`, tiles, sections };
}
