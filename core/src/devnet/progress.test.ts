import { describe, expect, it } from 'vitest';
import { plainView, type MinerTally } from './progress.js';

describe('plainView', () => {
  it('prints one line per event, and a status line only when the phase changes', () => {
    const lines: string[] = [];
    const miner: MinerTally = { name: 'miner-1', behaviour: 'cheater', ok: 0, wrong: 0, failed: 0 };
    const view = plainView({ miners: [miner], write: (text) => lines.push(text) });
    view.message('started');
    view.status({ block: 10, cycle: 0, cyclesDone: 0, cyclesTotal: 2, phase: 'waiting for the batch slot' });
    view.status({ block: 11, cycle: 0, cyclesDone: 0, cyclesTotal: 2, phase: 'waiting for the batch slot' });
    view.batchStarted(0, 1, 2);
    miner.wrong += 1;
    view.jobFinished(miner, '1a2b3c4d answered wrongly');
    view.status({ block: 150, cycle: 1, cyclesDone: 1, cyclesTotal: 2, phase: 'cycle 0 scored; setting weights' });
    view.stop();
    expect(lines).toEqual([
      '[devnet] started\n',
      '[devnet] block 10 cycle 0: waiting for the batch slot (0/2 cycles scored)\n',
      '[devnet] block 11 cycle 0: batch of cycle 0 started: 2 jobs on 1 miners\n',
      '[devnet] block 11 cycle 0: miner-1 (cheater) job 1a2b3c4d answered wrongly; ok   0  wrong   1  failed   0\n',
      '[devnet] block 150 cycle 1: cycle 0 scored; setting weights (1/2 cycles scored)\n',
    ]);
  });
});
