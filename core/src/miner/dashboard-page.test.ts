// The miner dashboard's stage timings (`stageTimings`): time per stage, the open one up to `now`.
import { describe, expect, it } from 'vitest';
import { stageTimings } from './dashboard-page.js';

const at = (status: Parameters<typeof stageTimings>[0][number]['status'], ms: number) => ({ status, detail: null, at: ms });

describe('stageTimings', () => {
  it('times each stage up to the next, the open one up to now, and names an end without a time', () => {
    const history = [at('waiting_for_executor', 1_000), at('waiting_for_payload', 2_200), at('running', 2_600)];
    expect(stageTimings(history, 4_600)).toMatch(/^waiting_for_executor 1\.2 s → waiting_for_payload 400 ms → running 2(\.0)? s$/);
    expect(stageTimings([...history, at('finished', 4_000)], 9_000)).toMatch(/→ running 1\.4 s → finished$/);
  });

  it("counts a stage begun after the page's now (read after it was taken) as 0 ms, never negative", () => {
    expect(stageTimings([at('waiting_for_executor', 1_051)], 1_000)).toBe('waiting_for_executor 0 ms');
  });
});
