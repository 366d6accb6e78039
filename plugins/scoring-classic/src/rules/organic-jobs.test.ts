import { describe, expect, it } from 'vitest';
import { job, runScoringRuleContract, scoringFacts } from '@horde/core/testkit';
import { organicJobsRule } from './organic-jobs.js';

const T = 'always_on.test';

const jobs = [
  job({ minerHotkey: 'A', executorClass: T, kind: 'organic', correct: undefined, inTime: undefined }), // not cross-checked
  job({ minerHotkey: 'A', executorClass: T, kind: 'organic', correct: true }), // cross-checked, agreed
  job({ minerHotkey: 'A', executorClass: T, kind: 'organic', correct: false }), // cross-check caught a cheat
  job({ minerHotkey: 'B', executorClass: T, kind: 'organic', status: 'failed', correct: undefined }),
  job({ minerHotkey: 'B', executorClass: T, kind: 'organic', status: 'rejected', correct: undefined }),
  job({ minerHotkey: 'C', executorClass: T }), // synthetic
];

describe('organic-jobs', () => {
  it('gives 1 point per completed organic job that was not found cheated', () => {
    expect(organicJobsRule().apply(scoringFacts({ jobs }), {})).toEqual({ A: { [T]: 2 } });
  });

  it('adds to synthetic points already in the table', () => {
    expect(organicJobsRule({ pointsPerJob: 0.5 }).apply(scoringFacts({ jobs }), { A: { [T]: 3 } })).toEqual({ A: { [T]: 4 } });
  });

  runScoringRuleContract(organicJobsRule(), [{ facts: scoringFacts({ jobs }), table: { A: { [T]: 1 } } }]);
});
