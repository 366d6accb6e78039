import type { Chain, ScoreTable } from '../contracts/index.js';
import type { ValidatorStore } from '../validator/store.js';
import { ruleContributions, type ScoringStep } from '../validator/scoring/engine.js';
import type { ScoreStepRow } from '../validator/store.js';
import { formatTable } from '../format/table.js';
import type { Behaviour, DevnetKeys } from './keys.js';

/** The name of the classic rule whose points are excused busy rejections (1 point each in the devnet). */
const EXCUSED_RULE = 'excused-rejections';

export interface JobCounts {
  /** Jobs the validator sent to this hotkey. */
  sent: number;
  /** Jobs the miner finished (right or wrong answer). */
  completed: number;
  /** Completed with the right answer in time: what earns points. */
  correct: number;
  /** Completed with a wrong answer, or too late. */
  wrong: number;
  /** Failed, or broke in horde. */
  failed: number;
  /** Declined by the miner. */
  rejected: number;
  /** Declines the `excused-rejections` rule paid for (busy, with enough excuse receipts). */
  excused: number;
}

export interface MinerSummary {
  /** `miner-1`; a dancer's two hotkeys are `miner-3` and `miner-3/2`. */
  readonly name: string;
  /** The process serving this hotkey (`miner-3` for both of a dancer's hotkeys). */
  readonly process: string;
  readonly behaviour: Behaviour;
  readonly hotkey: string;
  readonly coldkey: string;
  readonly uid: number | null;
  readonly jobs: JobCounts;
  /** What each scoring rule changed for this hotkey, summed over the devnet's cycles. */
  readonly points: Record<string, number>;
  /** This validator's normalised weight for the hotkey in the last cycle. */
  readonly weight: number;
  /** The weight read back from the LocalChain after the reveal. */
  readonly chainWeight: number;
  /** This validator's weight for the hotkey in each counted cycle, in the order of `cycleIndexes` (0 when none). */
  readonly cycleWeights: readonly number[];
  readonly log: string;
}

/** An honest miner that a counted cycle left without weight: a devnet failure, not a result. */
export interface UnpaidHonestMiner {
  readonly name: string;
  readonly hotkey: string;
  readonly cycle: number;
  readonly jobs: JobCounts;
}

export interface DevnetSummary {
  /** Cycles the devnet ran. */
  readonly cycles: number;
  /** Their chain cycle numbers. */
  readonly cycleIndexes: readonly number[];
  readonly miners: readonly MinerSummary[];
  /** Revealed weights of the validator, by miner hotkey (0 for a hotkey it gave none). */
  readonly chainWeights: Record<string, number>;
  readonly rules: readonly string[];
  readonly validator: {
    readonly hotkey: string;
    readonly uid: number | null;
    readonly weights: {
      readonly cycle: number;
      readonly status: string;
      readonly block: number | null;
      readonly revealedAtBlock: number | null;
    } | null;
    readonly log: string;
  };
  readonly trustedMiner: { readonly hotkey: string; readonly log: string };
  readonly dataDir: string;
  readonly logs: Record<string, string>;
  readonly configs: Record<string, string>;
  readonly settings: Record<string, unknown>;
  /** Which plugins the run added to which process, in words (none: the devnet's own plugins only). */
  readonly plugins?: readonly string[];
  readonly wallSeconds: number;
}

/** Rebuilds the pipeline's intermediate tables from the stored steps. */
export function stepsFromRows(rows: readonly ScoreStepRow[]): ScoringStep[] {
  const steps: Array<{ rule: string; table: Record<string, Record<string, number>> }> = [];
  for (const row of rows) {
    const step = (steps[row.step] ??= { rule: row.rule, table: {} });
    (step.table[row.hotkey] ??= {})[row.executorClass] = row.points;
  }
  // A rule that left the table empty has no rows; keep the order of the rest.
  return steps.filter((step): step is { rule: string; table: ScoreTable & Record<string, Record<string, number>> } => step !== undefined);
}

export interface SummaryInputs {
  readonly keys: DevnetKeys;
  readonly store: ValidatorStore;
  readonly chain: Chain;
  readonly netuid: number;
  readonly cycleIndexes: readonly number[];
  readonly revealedAtBlock: number | null;
  readonly logs: Record<string, string>;
  readonly configs: Record<string, string>;
  readonly dataDir: string;
  readonly settings: Record<string, unknown>;
  readonly plugins?: readonly string[];
  readonly wallSeconds: number;
}

const emptyCounts = (): JobCounts => ({ sent: 0, completed: 0, correct: 0, wrong: 0, failed: 0, rejected: 0, excused: 0 });

/**
 * The devnet's result, from the validator's store (jobs, score steps, weights of the cycles it ran)
 * and the LocalChain (uids, revealed weights).
 */
export async function buildSummary(inputs: SummaryInputs): Promise<DevnetSummary> {
  const { keys, store, chain, netuid, cycleIndexes } = inputs;
  const metagraph = await chain.metagraph(netuid);
  const uidOf = new Map(metagraph.neurons.map((n) => [n.hotkey, n.uid]));
  const hotkeyOf = new Map(metagraph.neurons.map((n) => [n.uid, n.hotkey]));
  const validatorUid = uidOf.get(keys.validator.hotkey.ss58) ?? null;

  const counts = new Map<string, JobCounts>();
  const points = new Map<string, Record<string, number>>();
  const rules: string[] = [];
  for (const cycle of cycleIndexes) {
    for (const job of await store.jobOutcomes(cycle)) {
      const c = counts.get(job.minerHotkey) ?? emptyCounts();
      c.sent += 1;
      if (job.status === 'completed') {
        c.completed += 1;
        if (job.correct === true && job.inTime !== false) c.correct += 1;
        else c.wrong += 1;
      } else if (job.status === 'rejected') c.rejected += 1;
      else c.failed += 1;
      counts.set(job.minerHotkey, c);
    }
    for (const [hotkey, entries] of ruleContributions(stepsFromRows(await store.scoreSteps(cycle)))) {
      const byRule = points.get(hotkey) ?? {};
      for (const { rule, change } of entries) {
        if (!rules.includes(rule)) rules.push(rule);
        byRule[rule] = (byRule[rule] ?? 0) + change;
      }
      points.set(hotkey, byRule);
    }
  }

  const weightsByCycle = new Map<number, Map<string, number>>();
  for (const cycle of cycleIndexes) weightsByCycle.set(cycle, new Map((await store.scores(cycle)).map((s) => [s.hotkey, s.weight])));

  const lastCycle = cycleIndexes.at(-1);
  const lastScores = lastCycle === undefined ? [] : await store.scores(lastCycle);
  const weightOf = new Map(lastScores.map((s) => [s.hotkey, s.weight]));
  const landed =
    lastCycle === undefined
      ? undefined
      : (await store.weights(lastCycle)).filter((w) => w.status === 'set' || w.status === 'committed').at(-1);

  const onChain = validatorUid === null ? undefined : (await chain.weights(netuid)).get(validatorUid);
  const chainWeights: Record<string, number> = {};
  for (const miner of keys.miners) for (const hotkey of miner.hotkeys) chainWeights[hotkey.ss58] = 0;
  for (const entry of onChain ?? []) {
    const hotkey = hotkeyOf.get(entry.uid);
    if (hotkey !== undefined) chainWeights[hotkey] = entry.weight;
  }

  const miners = keys.miners.flatMap((miner) =>
    miner.hotkeys.map((hotkey, i): MinerSummary => {
      const byRule = points.get(hotkey.ss58) ?? {};
      const jobCounts = counts.get(hotkey.ss58) ?? emptyCounts();
      jobCounts.excused = Math.round(byRule[EXCUSED_RULE] ?? 0);
      return {
        name: i === 0 ? miner.name : `${miner.name}/${i + 1}`,
        process: miner.name,
        behaviour: miner.behaviour,
        hotkey: hotkey.ss58,
        coldkey: miner.coldkey.ss58,
        uid: uidOf.get(hotkey.ss58) ?? null,
        jobs: jobCounts,
        points: Object.fromEntries(rules.map((rule) => [rule, byRule[rule] ?? 0])),
        weight: weightOf.get(hotkey.ss58) ?? 0,
        chainWeight: chainWeights[hotkey.ss58] ?? 0,
        cycleWeights: cycleIndexes.map((cycle) => weightsByCycle.get(cycle)?.get(hotkey.ss58) ?? 0),
        log: inputs.logs[miner.name] ?? '',
      };
    }),
  );

  return {
    cycles: cycleIndexes.length,
    cycleIndexes,
    miners,
    chainWeights,
    rules,
    validator: {
      hotkey: keys.validator.hotkey.ss58,
      uid: validatorUid,
      weights:
        lastCycle === undefined || !landed
          ? null
          : { cycle: lastCycle, status: landed.status, block: landed.block, revealedAtBlock: inputs.revealedAtBlock },
      log: inputs.logs['validator'] ?? '',
    },
    trustedMiner: { hotkey: keys.trustedMiner.ss58, log: inputs.logs['trusted-miner'] ?? '' },
    dataDir: inputs.dataDir,
    logs: inputs.logs,
    configs: inputs.configs,
    settings: inputs.settings,
    ...(inputs.plugins?.length ? { plugins: inputs.plugins } : {}),
    wallSeconds: inputs.wallSeconds,
  };
}

/**
 * Honest miners with no weight in a counted cycle. An honest miner that does its jobs always earns
 * some weight; none means the devnet broke (every request declined busy, a batch never scored) and
 * must not pass as a result.
 */
export function unpaidHonestMiners(summary: DevnetSummary): UnpaidHonestMiner[] {
  const unpaid: UnpaidHonestMiner[] = [];
  for (const miner of summary.miners) {
    if (miner.behaviour !== 'honest') continue;
    miner.cycleWeights.forEach((weight, i) => {
      if (weight <= 0) unpaid.push({ name: miner.name, hotkey: miner.hotkey, cycle: summary.cycleIndexes[i]!, jobs: miner.jobs });
    });
  }
  return unpaid;
}

/** `5GrwvaEF…NoHGKutQY`. */
function shortKey(key: string): string {
  return key.length > 20 ? `${key.slice(0, 8)}…${key.slice(-6)}` : key;
}

/** `+4`, `-3.333`, `0`: what a rule added or took away. */
function change(value: number): string {
  if (Math.abs(value) < 1e-9) return '0';
  const text = Number(value.toFixed(3)).toString();
  return value > 0 ? `+${text}` : text;
}

/** The final table: one row per miner hotkey, then totals per coldkey for dancers, then the logs. */
export function formatSummary(summary: DevnetSummary): string {
  // Rules that changed nothing for anyone only widen the table.
  const rules = summary.rules.filter((rule) => summary.miners.some((m) => Math.abs(m.points[rule] ?? 0) > 1e-9));
  const header = [
    'MINER',
    'BEHAVIOUR',
    'UID',
    'HOTKEY',
    'JOBS OK/WRONG/FAILED/EXCUSED',
    ...rules.map((rule) => rule.toUpperCase()),
    'WEIGHT',
    'CHAIN WEIGHT',
  ];
  const rows = summary.miners.map((m) => [
    m.name,
    m.behaviour,
    m.uid === null ? '-' : String(m.uid),
    shortKey(m.hotkey),
    `${m.jobs.correct}/${m.jobs.wrong}/${m.jobs.failed}/${m.jobs.excused}`,
    ...rules.map((rule) => change(m.points[rule] ?? 0)),
    m.weight.toFixed(4),
    m.chainWeight.toFixed(4),
  ]);
  const cycles = summary.cycleIndexes.length === 1 ? `cycle ${summary.cycleIndexes[0]}` : `cycles ${summary.cycleIndexes.join(', ')}`;
  const lines = [
    '',
    `Devnet finished in ${summary.wallSeconds.toFixed(1)} s: ${summary.cycles} cycle${summary.cycles === 1 ? '' : 's'} (chain ${cycles}), validator ${shortKey(summary.validator.hotkey)} (uid ${summary.validator.uid ?? '-'}).`,
    'Jobs and rule columns are summed over the cycles; a rule column is the points that rule added or took away (class-weights turns',
    "points into each class's share times the class weight, so it takes most away). WEIGHT is the validator's last cycle.",
    ...(summary.plugins ?? []),
    '',
    formatTable([header, ...rows]),
  ];
  const processes = new Map<string, MinerSummary[]>();
  for (const m of summary.miners) processes.set(m.process, [...(processes.get(m.process) ?? []), m]);
  const honest = summary.miners.filter((m) => m.behaviour === 'honest');
  const honestAverage = honest.length ? honest.reduce((sum, m) => sum + m.weight, 0) / honest.length : null;
  for (const [name, hotkeys] of processes) {
    if (hotkeys.length < 2) continue;
    const total = hotkeys.reduce((sum, m) => sum + m.weight, 0);
    lines.push(
      `${name} dances across ${hotkeys.length} hotkeys: together weight ${total.toFixed(4)}${honestAverage !== null ? ` (an honest miner: ${honestAverage.toFixed(4)} on average)` : ''}.`,
    );
  }
  const w = summary.validator.weights;
  lines.push(
    w
      ? `Weights of cycle ${w.cycle}: ${w.status} at block ${w.block ?? '-'}${w.revealedAtBlock !== null ? `, revealed at block ${w.revealedAtBlock}` : ''}; CHAIN WEIGHT is read back from the LocalChain.`
      : 'Weights: none landed on chain for the last cycle.',
  );
  lines.push('', `Data dir: ${summary.dataDir}`, 'Logs (JSON lines, one file per process):');
  lines.push(formatTable(Object.entries(summary.logs).map(([name, path]) => [`  ${name}`, path])));
  return `${lines.join('\n')}\n`;
}
