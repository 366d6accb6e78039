import { describe, expect, it } from 'vitest';
import { runScoringRuleContract, scoringFacts } from '@horde/core/testkit';
import { classWeightsRule, DEFAULT_CLASS_WEIGHTS } from './class-weights.js';

const table = {
  A: { test: 3, gpu: 1 },
  B: { test: 1, gpu: 3 },
  C: { cpu: 5, unlisted: 10 },
  D: { idle: 0 },
};

describe('class-weights', () => {
  it('splits each class weight in proportion to points; unlisted classes and zero weights give 0', () => {
    const rule = classWeightsRule({ classWeights: { test: 1, gpu: 3, cpu: 0, idle: 2 } });
    expect(rule.apply(scoringFacts(), table)).toEqual({
      A: { test: 0.75, gpu: 0.75 }, // 3/4 × 1, 1/4 × 3
      B: { test: 0.25, gpu: 2.25 }, // 1/4 × 1, 3/4 × 3
      C: { cpu: 0, unlisted: 0 },
      D: { idle: 0 }, // a class nobody scored in stays 0 instead of dividing by zero
    });
  });

  it("defaults to ComputeHorde's code weights", () => {
    const rule = classWeightsRule();
    const result = rule.apply(scoringFacts(), {
      A: { 'spin_up-4min.gpu-24gb': 1, 'always_on.test': 5 },
      B: { 'spin_up-4min.gpu-24gb': 1 },
    });
    expect(DEFAULT_CLASS_WEIGHTS['spin_up-4min.gpu-24gb']).toBe(98);
    expect(result).toEqual({ A: { 'spin_up-4min.gpu-24gb': 49, 'always_on.test': 0 }, B: { 'spin_up-4min.gpu-24gb': 49 } });
  });

  runScoringRuleContract(classWeightsRule({ classWeights: { test: 1, gpu: 3 } }), [{ facts: scoringFacts(), table }]);
});
