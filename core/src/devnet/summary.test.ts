import { afterEach, describe, expect, it } from 'vitest';
import { LocalChain } from '../chain/local/local-chain.js';
import type { Store } from '../contracts/index.js';
import { openStore } from '../store/index.js';
import type { JobRecord } from '../validator/job-driver.js';
import { ValidatorStore } from '../validator/store.js';
import { devnetKeys } from './keys.js';
import { buildSummary, formatSummary, stepsFromRows, unpaidHonestMiners } from './summary.js';

const NETUID = 12;
let store: Store | null = null;
afterEach(async () => {
  await store?.close();
  store = null;
});

function job(cycle: number, minerHotkey: string, n: number, fields: Partial<JobRecord> = {}): JobRecord {
  return {
    jobUuid: `${cycle}-${minerHotkey.slice(0, 6)}-${n}`,
    cycle,
    minerHotkey,
    executorClass: 'always_on.test',
    kind: 'synthetic',
    generator: 'hash-crack',
    description: 'hash-crack',
    status: 'completed',
    accepted: true,
    correct: true,
    inTime: true,
    timeTookMs: 300,
    details: '',
    rejectionReason: null,
    rejectionReceipts: [],
    checkedAt: null,
    ...fields,
  };
}

describe('stepsFromRows', () => {
  it('rebuilds the table after each rule from the stored rows', () => {
    const steps = stepsFromRows([
      { step: 0, rule: 'synthetic-jobs', hotkey: 'A', executorClass: 'c', points: 2 },
      { step: 1, rule: 'class-weights', hotkey: 'A', executorClass: 'c', points: 0.5 },
      { step: 0, rule: 'synthetic-jobs', hotkey: 'B', executorClass: 'c', points: 2 },
      { step: 1, rule: 'class-weights', hotkey: 'B', executorClass: 'c', points: 0.5 },
    ]);
    expect(steps).toEqual([
      { rule: 'synthetic-jobs', table: { A: { c: 2 }, B: { c: 2 } } },
      { rule: 'class-weights', table: { A: { c: 0.5 }, B: { c: 0.5 } } },
    ]);
  });
});

describe('buildSummary', () => {
  it('counts jobs and rule points over the devnet cycles, takes the last weights, and reads the chain weights by hotkey', async () => {
    store = await openStore({ client: 'sqlite', filename: ':memory:' });
    const keys = await devnetKeys({ miners: 3, cheaters: 1, dancers: 1 });
    const [honest, cheater, dancer] = keys.miners as [(typeof keys.miners)[0], (typeof keys.miners)[0], (typeof keys.miners)[0]];
    await LocalChain.init(store, { blockTimeMs: 1000, subnets: [{ netuid: NETUID, commitRevealEnabled: false, weightsRateLimit: 0 }] });
    const admin = await LocalChain.open({ store, netuid: NETUID });
    await admin.registerNeuron({
      hotkey: keys.validator.hotkey.ss58,
      coldkey: keys.validator.coldkey.ss58,
      stake: 100_000,
      validatorPermit: true,
    });
    for (const m of keys.miners) for (const h of m.hotkeys) await admin.registerNeuron({ hotkey: h.ss58, coldkey: m.coldkey.ss58 });

    const h = honest.hotkeys[0]!.ss58;
    const c = cheater.hotkeys[0]!.ss58;
    const [d1, d2] = dancer.hotkeys.map((k) => k.ss58) as [string, string];
    const validatorStore = new ValidatorStore(store, keys.validator.hotkey.ss58);
    await validatorStore.saveJobs(
      [
        job(3, h, 1),
        job(3, h, 2, { status: 'failed', correct: null, inTime: null }),
        job(3, c, 1, { correct: false }),
        job(3, d1, 1),
        job(4, h, 1),
        job(4, c, 1, { correct: false }),
        job(4, d2, 1),
        job(4, d2, 2, { status: 'rejected', accepted: false, correct: null, inTime: null, rejectionReason: 'busy' }),
        // Another cycle (the batch the validator started while the devnet stopped): not counted.
        job(5, h, 1),
      ],
      Date.now(),
    );
    const rows = (cycle: number, table: Record<string, [number, number]>) =>
      Object.entries(table).flatMap(([hotkey, [points, weight]]) => [
        { step: 0, rule: 'synthetic-jobs', hotkey, executorClass: 'always_on.test', points },
        { step: 1, rule: 'class-weights', hotkey, executorClass: 'always_on.test', points: weight },
      ]);
    await validatorStore.saveScores(3, rows(3, { [h]: [1, 0.5], [d1]: [1, 0.5], [c]: [0, 0] }), [], Date.now());
    await validatorStore.saveScores(
      4,
      rows(4, { [h]: [1, 0.4], [d2]: [1.5, 0.6], [c]: [0, 0] }),
      [
        { hotkey: d2, uid: 5, weight: 0.6 },
        { hotkey: h, uid: 1, weight: 0.4 },
        { hotkey: c, uid: 2, weight: 0 },
      ],
      Date.now(),
    );
    const validatorChain = await LocalChain.open({ store, netuid: NETUID, hotkey: keys.validator.hotkey.ss58 });
    await validatorChain.submitWeights(NETUID, [
      { uid: 1, weight: 0.4 },
      { uid: 4, weight: 0.6 },
    ]);

    const summary = await buildSummary({
      keys,
      store: validatorStore,
      chain: admin,
      netuid: NETUID,
      cycleIndexes: [3, 4],
      revealedAtBlock: null,
      logs: {
        validator: '/d/logs/validator.log',
        'miner-1': '/d/logs/miner-1.log',
        'miner-2': '/d/logs/miner-2.log',
        'miner-3': '/d/logs/miner-3.log',
      },
      configs: {},
      dataDir: '/d',
      settings: {},
      wallSeconds: 12.3,
    });
    expect(summary.cycles).toBe(2);
    expect(summary.miners.map((m) => [m.name, m.process, m.behaviour, m.uid])).toEqual([
      ['miner-1', 'miner-1', 'honest', 1],
      ['miner-2', 'miner-2', 'cheater', 2],
      ['miner-3', 'miner-3', 'dancer', 3],
      ['miner-3/2', 'miner-3', 'dancer', 4],
    ]);
    const [mh, mc, md1, md2] = summary.miners;
    expect(mh!.jobs).toEqual({ sent: 3, completed: 2, correct: 2, wrong: 0, failed: 1, rejected: 0, excused: 0 });
    expect(mc!.jobs).toMatchObject({ sent: 2, completed: 2, correct: 0, wrong: 2 });
    expect(md2!.jobs).toMatchObject({ sent: 2, completed: 1, rejected: 1 });
    expect(mh!.points).toEqual({ 'synthetic-jobs': 2, 'class-weights': 0.5 - 1 + (0.4 - 1) });
    expect(md1!.points['synthetic-jobs']).toBe(1);
    expect(md2!.points['synthetic-jobs']).toBe(1.5);
    expect(summary.rules).toEqual(['synthetic-jobs', 'class-weights']);
    // Weights are the last cycle's; the stored uid 5 does not matter, the hotkey does.
    expect([mh!.weight, mc!.weight, md1!.weight, md2!.weight]).toEqual([0.4, 0, 0, 0.6]);
    // The chain holds what the validator put there (u16-quantised), mapped back to hotkeys.
    expect(mh!.chainWeight).toBeCloseTo(0.4, 4);
    expect(md2!.chainWeight).toBeCloseTo(0.6, 4);
    expect(summary.chainWeights).toEqual({ [h]: mh!.chainWeight, [c]: 0, [d1]: 0, [d2]: md2!.chainWeight });
    expect(summary.validator).toMatchObject({ uid: 0, log: '/d/logs/validator.log' });
    // Cycle 3 was scored but set no weights: the honest miner went unpaid there, and the devnet says so.
    expect(mh!.cycleWeights).toEqual([0, 0.4]);
    expect(md2!.cycleWeights).toEqual([0, 0.6]);
    expect(unpaidHonestMiners(summary)).toEqual([{ name: 'miner-1', hotkey: h, cycle: 3, jobs: mh!.jobs }]);
    // Cheaters and dancers with no weight in a cycle are results, not failures.
    expect(unpaidHonestMiners({ ...summary, miners: summary.miners.filter((m) => m.behaviour !== 'honest') })).toEqual([]);

    const table = formatSummary(summary);
    expect(table).toMatch(
      /MINER\s+BEHAVIOUR\s+UID\s+HOTKEY\s+JOBS OK\/WRONG\/FAILED\/EXCUSED\s+SYNTHETIC-JOBS\s+CLASS-WEIGHTS\s+WEIGHT\s+CHAIN WEIGHT/,
    );
    expect(table).toMatch(/miner-2\s+cheater\s+2\s+\S+\s+0\/2\/0\/0\s+0\s+0\s+0\.0000\s+0\.0000/);
    expect(table).toContain('miner-3 dances across 2 hotkeys: together weight 0.6000 (an honest miner: 0.4000 on average).');
    expect(table).toMatch(/validator\s+\/d\/logs\/validator\.log/);
    await validatorChain.close();
    await admin.close();
  });
});
