import type { CycleFacts, ScoreTable, ScoringRule, WeightVector } from '../../contracts/index.js';

export interface ScoringStep {
  readonly rule: string;
  /** The table after this rule ran. */
  readonly table: ScoreTable;
}

export interface HotkeyWeight {
  readonly hotkey: string;
  /** Null when the hotkey is not (or no longer) in the metagraph: it gets no weight. */
  readonly uid: number | null;
  readonly weight: number;
}

export interface ScoringResult {
  readonly steps: readonly ScoringStep[];
  /** Every hotkey of the final table; weights sum to 1 over those with a uid (or are all 0). */
  readonly weights: readonly HotkeyWeight[];
  /** What goes on chain: uid → weight for every hotkey with a uid and a weight above 0. */
  readonly vector: WeightVector;
}

/** A hotkey's points summed over executor classes. */
export function totalOf(table: ScoreTable, hotkey: string): number {
  return Object.values(table[hotkey] ?? {}).reduce((sum, points) => sum + points, 0);
}

/**
 * Runs the rules in order, each on the table the previous one returned (the first on an empty
 * table), keeping every intermediate table so `horde validator scores` can say which rule
 * contributed what. The final table becomes weights: each hotkey's points summed over classes,
 * hotkeys outside the metagraph dropped, the rest normalised to sum to 1 and mapped to uids.
 * Negative or non-finite points (a faulty rule) count as 0.
 */
export function runScoringPipeline(rules: readonly ScoringRule[], facts: CycleFacts): ScoringResult {
  const steps: ScoringStep[] = [];
  let table: ScoreTable = {};
  for (const rule of rules) {
    table = rule.apply(facts, table);
    steps.push({ rule: rule.name, table });
  }

  const uidOf = new Map(facts.neurons.map((neuron) => [neuron.hotkey, neuron.uid]));
  const points = Object.keys(table).map((hotkey) => {
    const total = totalOf(table, hotkey);
    return { hotkey, uid: uidOf.get(hotkey) ?? null, points: Number.isFinite(total) && total > 0 ? total : 0 };
  });
  const sum = points.reduce((acc, entry) => acc + (entry.uid === null ? 0 : entry.points), 0);
  const weights = points.map(({ hotkey, uid, points: p }) => ({ hotkey, uid, weight: uid !== null && sum > 0 ? p / sum : 0 }));
  const vector = weights.filter((w) => w.uid !== null && w.weight > 0).map((w) => ({ uid: w.uid as number, weight: w.weight }));
  return { steps, weights, vector };
}

/**
 * What each rule changed, per hotkey: the hotkey's total after the rule minus before it. Rules that
 * rescale (class weights) show up as the difference between points and weight units.
 */
export function ruleContributions(steps: readonly ScoringStep[]): Map<string, Array<{ rule: string; after: number; change: number }>> {
  const byHotkey = new Map<string, Array<{ rule: string; after: number; change: number }>>();
  let previous: ScoreTable = {};
  for (const step of steps) {
    const hotkeys = new Set([...Object.keys(previous), ...Object.keys(step.table)]);
    for (const hotkey of hotkeys) {
      const after = totalOf(step.table, hotkey);
      const entry = { rule: step.rule, after, change: after - totalOf(previous, hotkey) };
      byHotkey.set(hotkey, [...(byHotkey.get(hotkey) ?? []), entry]);
    }
    previous = step.table;
  }
  return byHotkey;
}
