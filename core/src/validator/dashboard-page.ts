import type { Metagraph } from '../contracts/index.js';
import { lineChartSvg, type ChartSeries } from '../dashboard/chart.js';
import { formatAgo, formatDuration, keyCell, statusCell, type Cell, type ChartSection, type DashboardPage, type Section, type TableSection, type Tile } from '../dashboard/view.js';
import type { ValidatorProgress } from './service.js';
import { pointsByRule, type ValidatorStore } from './store.js';
import { collateralSection, type CollateralView } from './dashboard-collateral.js';

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
    const classes = Object.entries(manifests[hotkey] ?? {}).map(([executorClass, n]) => `${executorClass} ×${n}`).join(', ');
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
    empty: 'No miner tested yet: the first batch runs in this validator\'s slot of the cycle.',
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
      return [b.cycle, b.block, statusCell(b.status), b.miners, b.jobs, c.completed ?? 0, c.failed ?? 0, c.horde_failed ?? 0, c.rejected ?? 0, b.finishedAt === null ? '-' : formatDuration(b.finishedAt - b.startedAt)];
    }),
    empty: 'No batch yet.',
  };
}

function failureText(failure: { source: string; reason: string; stage: string | null } | null): Cell {
  if (!failure) return null;
  return { text: `${failure.reason}${failure.stage ? ` · ${failure.stage}` : ''}`, tone: 'bad', title: `reported by the ${failure.source}` };
}

export async function jobsSection(store: ValidatorStore, now: number): Promise<TableSection> {
  const jobs = await store.jobs({ limit: 30 });
  return {
    kind: 'table',
    id: 'jobs-wide',
    title: 'Recent jobs',
    note: 'Newest first; a failed job shows its reason and the stage it failed in.',
    columns: ['Cycle', 'Job', 'Miner', 'Class', 'Kind', 'Status', 'Verdict', 'Took', 'Why it failed', 'When'],
    rows: jobs.map((job) => [
      job.cycle,
      job.jobUuid.slice(0, 8),
      keyCell(job.minerHotkey),
      job.executorClass,
      job.kind,
      statusCell(job.status),
      job.status !== 'completed' ? null : job.correct === false ? { text: 'wrong', tone: 'bad' } : job.correct === true ? { text: 'correct', tone: 'ok' } : 'unchecked',
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
    rows: failed.map((job) => [job.cycle, job.jobUuid.slice(0, 8), keyCell(job.minerHotkey), job.failure.source, { text: job.failure.reason, tone: 'bad' }, job.failure.stage, job.failure.message.slice(0, 160), formatAgo(job.createdAt, now)]),
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
    rows: rejected.map((job) => [job.cycle, job.jobUuid.slice(0, 8), keyCell(job.minerHotkey), job.executorClass, job.details.slice(0, 160), formatAgo(job.createdAt, now)]),
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
    rows: scores.map((score) => [score.uid, keyCell(score.hotkey), ...rules.map((_r, i) => Number((totals.get(score.hotkey)?.[i] ?? 0).toPrecision(4))), score.weight.toFixed(4)]),
    empty: 'No cycle scored yet: a cycle is scored when the next one begins.',
  };
}

/** Weights over time: one line per uid, x the cycle, from the weights that landed (set or committed). */
export async function weightsChartSection(store: ValidatorStore, metagraph: Metagraph | null): Promise<ChartSection> {
  const history = await store.weightsHistory(HISTORY_CYCLES);
  const hotkeyOf = new Map(metagraph?.neurons.map((n) => [n.uid, n.hotkey]) ?? []);
  const byUid = new Map<number, { x: number; y: number }[]>();
  for (const row of history) row.uids.forEach((uid, i) => {
    const points = byUid.get(uid) ?? [];
    points.push({ x: row.cycle, y: row.weights[i] ?? 0 });
    byUid.set(uid, points);
  });
  const series: ChartSeries[] = [...byUid].sort(([a], [b]) => a - b).map(([uid, points]) => {
    const hotkey = hotkeyOf.get(uid);
    return { label: hotkey ? `uid ${uid} ${hotkey.slice(0, 6)}…` : `uid ${uid}`, points };
  });
  const last = history.at(-1);
  return {
    kind: 'chart',
    id: 'weights',
    title: 'Weights over time',
    note: last ? `Last put on chain: cycle ${last.cycle}, ${last.status} at block ${last.block}${last.revealBlock !== null ? `, reveal due at block ${last.revealBlock}` : ''}.` : undefined,
    svg: series.length === 0 ? null : lineChartSvg(series, { xLabel: 'cycle', yLabel: 'weight', yMax: 1 }),
    empty: 'No weights set yet.',
  };
}

export interface ValidatorPageDeps {
  readonly hotkey: string;
  readonly netuid: number;
  readonly store: ValidatorStore;
  readonly progress: () => ValidatorProgress;
  readonly metagraph: () => Promise<Metagraph | null>;
  readonly now: () => number;
  /** Miner collateral, when `validator.collateral` is on. */
  readonly collateral?: () => CollateralView | null;
}

/** Every validator section, in page order (the devnet's page reuses them). */
export async function validatorSections(store: ValidatorStore, metagraph: Metagraph | null, now: number): Promise<Section[]> {
  return Promise.all([minersSection(store, metagraph), weightsChartSection(store, metagraph), batchesSection(store), scoresSection(store), jobsSection(store, now), failuresSection(store, now), refusalsSection(store, now)]);
}

export async function validatorPage(deps: ValidatorPageDeps): Promise<DashboardPage> {
  const now = deps.now();
  const progress = deps.progress();
  const metagraph = await deps.metagraph().catch(() => null);
  const sections = await validatorSections(deps.store, metagraph, now);
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
    { label: 'Last weights', value: weights ? `cycle ${weights.cycle}: ${weights.result?.status ?? 'none'}` : '-', tone: weights?.result ? 'ok' : weights ? 'warn' : undefined },
  ];
  return { title: 'horde validator', subtitle: `${deps.hotkey} · netuid ${deps.netuid}`, tiles, sections };
}
