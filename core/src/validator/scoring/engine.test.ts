import { describe, expect, it } from 'vitest';
import type { ScoringRule } from '../../contracts/index.js';
import { neuron, scoringFacts } from '../../testkit/scoring.js';
import { ruleContributions, runScoringPipeline } from './engine.js';

// Two tiny rules: points per completed job, then ×2 for class "gpu".
const points: ScoringRule = {
  name: 'points',
  apply: (facts, table) => {
    const next: Record<string, Record<string, number>> = structuredClone(table) as Record<string, Record<string, number>>;
    for (const job of facts.jobs)
      if (job.status === 'completed')
        (next[job.minerHotkey] ??= {})[job.executorClass] = (next[job.minerHotkey]?.[job.executorClass] ?? 0) + 1;
    return next;
  },
};
const doubleGpu: ScoringRule = {
  name: 'double-gpu',
  apply: (_facts, table) =>
    Object.fromEntries(
      Object.entries(table).map(([h, byClass]) => [
        h,
        Object.fromEntries(Object.entries(byClass).map(([c, p]) => [c, c === 'gpu' ? p * 2 : p])),
      ]),
    ),
};

const job = (minerHotkey: string, executorClass: string, status: 'completed' | 'failed' = 'completed') => ({
  jobUuid: `${minerHotkey}-${Math.random()}`,
  minerHotkey,
  executorClass,
  kind: 'synthetic' as const,
  status,
});
const facts = scoringFacts({
  neurons: [
    neuron({ uid: 4, hotkey: 'A', coldkey: 'ca' }),
    neuron({ uid: 7, hotkey: 'B', coldkey: 'cb' }),
    neuron({ uid: 9, hotkey: 'C', coldkey: 'cc' }),
  ],
  jobs: [job('A', 'cpu'), job('A', 'gpu'), job('B', 'cpu'), job('B', 'cpu', 'failed'), job('Gone', 'cpu')],
});

describe('runScoringPipeline', () => {
  it('runs the rules in order and turns the final table into uid weights summing to 1', () => {
    const result = runScoringPipeline([points, doubleGpu], facts);
    expect(result.steps.map((s) => s.rule)).toEqual(['points', 'double-gpu']);
    expect(result.steps[0]!.table).toEqual({ A: { cpu: 1, gpu: 1 }, B: { cpu: 1 }, Gone: { cpu: 1 } });
    // Final: A = 1 + 2 = 3, B = 1; "Gone" is not in the metagraph and gets nothing; C has no row.
    expect(result.weights).toEqual([
      { hotkey: 'A', uid: 4, weight: 0.75 },
      { hotkey: 'B', uid: 7, weight: 0.25 },
      { hotkey: 'Gone', uid: null, weight: 0 },
    ]);
    expect(result.vector).toEqual([
      { uid: 4, weight: 0.75 },
      { uid: 7, weight: 0.25 },
    ]);
  });

  it('reports what each rule changed per hotkey', () => {
    const contributions = ruleContributions(runScoringPipeline([points, doubleGpu], facts).steps);
    expect(contributions.get('A')).toEqual([
      { rule: 'points', after: 2, change: 2 },
      { rule: 'double-gpu', after: 3, change: 1 },
    ]);
    expect(contributions.get('B')).toEqual([
      { rule: 'points', after: 1, change: 1 },
      { rule: 'double-gpu', after: 1, change: 0 },
    ]);
  });

  it('gives no weights when nobody scored, and ignores negative or non-finite points', () => {
    expect(runScoringPipeline([], facts)).toEqual({ steps: [], weights: [], vector: [] });
    const broken: ScoringRule = { name: 'broken', apply: () => ({ A: { cpu: -5 }, B: { cpu: Number.NaN }, C: { cpu: 2 } }) };
    expect(runScoringPipeline([broken], facts).vector).toEqual([{ uid: 9, weight: 1 }]);
  });
});
