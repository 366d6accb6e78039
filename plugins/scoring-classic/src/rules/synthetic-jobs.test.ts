import { describe, expect, it } from 'vitest';
import { job, runScoringRuleContract, scoringFacts } from '@horde/core/testkit';
import { syntheticJobsRule } from './synthetic-jobs.js';

const T = 'always_on.test';
const G = 'always_on.gpu-24gb';

const jobs = [
  job({ minerHotkey: 'A', executorClass: T }),
  job({ minerHotkey: 'A', executorClass: T }),
  job({ minerHotkey: 'A', executorClass: T }),
  job({ minerHotkey: 'A', executorClass: T, inTime: false }), // right answer, too slow
  job({ minerHotkey: 'A', executorClass: G }),
  job({ minerHotkey: 'B', executorClass: T, correct: false }), // wrong answer
  job({ minerHotkey: 'B', executorClass: T, correct: false }),
  job({ minerHotkey: 'C', executorClass: T, status: 'failed', correct: undefined, inTime: undefined }),
  job({ minerHotkey: 'C', executorClass: T, status: 'horde_failed', correct: undefined, inTime: undefined }),
  job({ minerHotkey: 'D', executorClass: T, kind: 'organic' }), // organic: not this rule's business
];

describe('synthetic-jobs', () => {
  it('gives 1 point per synthetic job completed correctly and in time, 0 for the rest', () => {
    expect(syntheticJobsRule().apply(scoringFacts({ jobs }), {})).toEqual({
      A: { [T]: 3, [G]: 1 },
      B: { [T]: 0 },
      C: { [T]: 0 },
    });
  });

  it('adds to the points already in the table and scales with pointsPerJob', () => {
    const table = { A: { [T]: 10 }, Z: { [T]: 1 } };
    expect(syntheticJobsRule({ pointsPerJob: 2 }).apply(scoringFacts({ jobs }), table)).toEqual({
      A: { [T]: 16, [G]: 2 },
      B: { [T]: 0 },
      C: { [T]: 0 },
      Z: { [T]: 1 },
    });
  });

  runScoringRuleContract(syntheticJobsRule(), [{ facts: scoringFacts({ jobs }), table: { A: { [T]: 1 } } }]);
});
