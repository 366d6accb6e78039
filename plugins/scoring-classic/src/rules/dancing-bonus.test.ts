import { describe, expect, it } from 'vitest';
import { neuron, runScoringRuleContract, scoringFacts } from '@horde/core/testkit';
import { dancingBonusRule, splitColdkeyPoints } from './dancing-bonus.js';

// Coldkey "dancer" owns h1 and h2; "solo" owns h3; "trio" owns t1, t2, t3.
const neurons = [
  neuron({ uid: 1, hotkey: 'h1', coldkey: 'dancer' }),
  neuron({ uid: 2, hotkey: 'h2', coldkey: 'dancer' }),
  neuron({ uid: 3, hotkey: 'h3', coldkey: 'solo' }),
  neuron({ uid: 4, hotkey: 't1', coldkey: 'trio' }),
  neuron({ uid: 5, hotkey: 't2', coldkey: 'trio' }),
  neuron({ uid: 6, hotkey: 't3', coldkey: 'trio' }),
];
const table = { h1: { test: 4, gpu: 2 }, h2: { test: 1 }, h3: { test: 5 }, t2: { test: 10 }, stranger: { test: 7 } };

describe('dancing-bonus', () => {
  it('pays a coldkey whose main hotkey moved 30 % more, 80 % of it to the new main hotkey', () => {
    const facts = scoringFacts({
      neurons,
      mainHotkeys: {
        dancer: { current: 'h2', previous: 'h1', verifiedDance: true },
        solo: { current: 'h3', previous: 'h3', verifiedDance: false },
        trio: { current: 't1', previous: null, verifiedDance: false },
      },
    });
    const result = dancingBonusRule().apply(facts, table);
    // dancer, test: (4 + 1) × 1.3 = 6.5 → h2 6.5 × 0.8 = 5.2, h1 1.3.
    expect(result.h2!.test).toBeCloseTo(5.2, 12);
    expect(result.h1!.test).toBeCloseTo(1.3, 12);
    // dancer, gpu: 2 × 1.3 = 2.6 → h2 2.08, h1 0.52 (classes are danced separately).
    expect(result.h2!.gpu).toBeCloseTo(2.08, 12);
    expect(result.h1!.gpu).toBeCloseTo(0.52, 12);
    // solo: one hotkey, never moved: unchanged.
    expect(result.h3).toEqual({ test: 5 });
    // trio: no previous main hotkey, so no bonus; t1 main gets 8, t2 and t3 share 2.
    expect(result.t1!.test).toBeCloseTo(8, 12);
    expect(result.t2!.test).toBeCloseTo(1, 12);
    expect(result.t3!.test).toBeCloseTo(1, 12);
    // a hotkey missing from the metagraph is passed through untouched.
    expect(result.stranger).toEqual({ test: 7 });
  });

  it('splits equally when the main hotkey is unknown, and takes bonus and share from the options', () => {
    const facts = scoringFacts({ neurons, mainHotkeys: { dancer: { current: 'h2', previous: 'h1', verifiedDance: true } } });
    const result = dancingBonusRule({ bonus: 0.1, mainHotkeyShare: 0.5 }).apply(facts, {
      h1: { test: 4 },
      h2: { test: 1 },
      t1: { test: 6 },
    });
    expect(result.h1!.test).toBeCloseTo(2.75, 12); // 5 × 1.1 × 0.5
    expect(result.h2!.test).toBeCloseTo(2.75, 12);
    for (const hotkey of ['t1', 't2', 't3']) expect(result[hotkey]!.test).toBeCloseTo(2, 12); // trio: unknown main, 6 / 3
  });

  it('keeps the coldkey total (times the bonus) whatever the split', () => {
    const total = (shares: Map<string, number>) => [...shares.values()].reduce((sum, x) => sum + x, 0);
    const options = { bonus: 0.3, mainHotkeyShare: 0.8 };
    expect(total(splitColdkeyPoints(10, ['a', 'b', 'c'], { current: 'b', previous: 'a', verifiedDance: true }, options))).toBeCloseTo(
      13,
      12,
    );
    // A reported change the validator could not verify (an unregistered main, no executors moved) earns nothing extra.
    expect(total(splitColdkeyPoints(10, ['a', 'b', 'c'], { current: 'z', previous: 'a', verifiedDance: false }, options))).toBeCloseTo(
      10,
      12,
    );
    expect(total(splitColdkeyPoints(10, ['a', 'b', 'c'], { current: 'b', previous: 'a', verifiedDance: false }, options))).toBeCloseTo(
      10,
      12,
    );
    expect(total(splitColdkeyPoints(10, ['a', 'b'], undefined, options))).toBeCloseTo(10, 12);
    expect(splitColdkeyPoints(10, ['a'], { current: 'a', previous: 'a', verifiedDance: false }, options)).toEqual(new Map([['a', 10]]));
  });

  runScoringRuleContract(dancingBonusRule(), [
    { facts: scoringFacts({ neurons, mainHotkeys: { dancer: { current: 'h2', previous: 'h1', verifiedDance: true } } }), table },
  ]);
});
