/**
 * Allowance scoring pays other validators' organic jobs from the receipts this validator
 * transferred from the miners, end to end through the real store (SQLite and PostgreSQL):
 * receipts stored by receipt transfer's repository → `buildCycleFacts` → the allowance rule of
 * `@horde/plugin-scoring-allowance`. Validator A (300 stake) scores; validator B (700) ran an
 * organic job on the miner; a validator without a permit ran one too. Before, the rule read
 * `facts.jobs` only and the miner earned nothing for B's job.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalChain } from '../../core/src/chain/local/local-chain.js';
import type { Receipt, Store } from '../../core/src/contracts/index.js';
import type { Hotkey } from '../../core/src/keys/index.js';
import type { CountersignedReceipt } from '../../core/src/miner/store/receipts.js';
import { countersignReceipt } from '../../core/src/protocol/index.js';
import { openStore } from '../../core/src/store/index.js';
import { signedFinishedReceipt, signedStartedReceipt, testHotkey } from '../../core/src/testkit/index.js';
import { cycleByIndex } from '../../core/src/validator/cycles.js';
import { TransferredReceiptsRepository } from '../../core/src/validator/receipts/store.js';
import { buildCycleFacts } from '../../core/src/validator/scoring/facts.js';
import { ValidatorStore } from '../../core/src/validator/store.js';
import { allowancePaidJobsRule } from '../../plugins/scoring-allowance/src/index.js';
import { pgDatabase } from '../support/services.js';

const NETUID = 9;
const CYCLE_BLOCKS = 100;
const X = 'always_on.cpu.8c.16gb';

describe.each(['sqlite', 'postgres'] as const)('allowance from transferred receipts (%s store)', (dialect) => {
  let store: Store;
  let dropDb: (() => Promise<void>) | null = null;
  let chain: LocalChain;
  let a: Hotkey;
  let b: Hotkey;
  let outsider: Hotkey;
  let miner: Hotkey;

  beforeAll(async () => {
    if (dialect === 'postgres') {
      const db = await pgDatabase('horde_allowance');
      dropDb = db.drop;
      store = await openStore({ client: 'postgres', url: db.url });
    } else {
      store = await openStore({ client: 'sqlite', filename: ':memory:' });
    }
    [a, b, outsider, miner] = await Promise.all(['//AllowA', '//AllowB', '//AllowOutsider', '//AllowMinerE2e'].map(testHotkey));
    await LocalChain.init(store, { blockTimeMs: 1000, subnets: [{ netuid: NETUID }] });
    chain = await LocalChain.open({ store, netuid: NETUID });
    await chain.ledger.registerNeuron({ netuid: NETUID, hotkey: a.ss58, coldkey: a.ss58, stake: 300, validatorPermit: true });
    await chain.ledger.registerNeuron({ netuid: NETUID, hotkey: b.ss58, coldkey: b.ss58, stake: 700, validatorPermit: true });
    await chain.ledger.registerNeuron({
      netuid: NETUID,
      hotkey: outsider.ss58,
      coldkey: outsider.ss58,
      stake: 5_000,
      validatorPermit: false,
    });
    await chain.ledger.registerNeuron({ netuid: NETUID, hotkey: miner.ss58, coldkey: miner.ss58 });
  }, 60_000);
  afterAll(async () => {
    await chain?.close();
    await store?.close();
    await dropDb?.();
  });

  /** An organic job `validator` ran on the miner, finished at `atMs` for `score` executor-seconds; as transfer stores it (countersigned). */
  function organicJob(validator: Hotkey, atMs: number, score: string): CountersignedReceipt[] {
    const jobUuid = `job-${Math.random().toString(36).slice(2)}`;
    const fields = { jobUuid, minerHotkey: miner.ss58 };
    const receipts: Receipt[] = [
      signedStartedReceipt(validator, { ...fields, executorClass: X, isOrganic: true, ttl: 7, timestampMs: atMs - 120_000 }),
      signedFinishedReceipt(validator, { ...fields, startedAtMs: atMs - 100_000, finishedAtMs: atMs, score }),
    ];
    return receipts.map((receipt) => countersignReceipt(receipt, miner) as CountersignedReceipt);
  }

  it("pays B's organic job from B's allowance, and nothing for a validator without a permit", async () => {
    const cycle = cycleByIndex(4, CYCLE_BLOCKS);
    const validatorStore = new ValidatorStore(store, a.ss58);
    const batchStartedAt = Date.now() - 600_000;
    // A's batch of the cycle: the miner declared 2 executors of the class.
    await validatorStore.startBatch(cycle.index, cycle.startBlock, batchStartedAt);
    await validatorStore.saveManifests(cycle.index, new Map([[miner.ss58, { [X]: 2 }]]));
    await validatorStore.finishBatch(cycle.index, {
      finishedAt: batchStartedAt + 1_000,
      miners: 1,
      jobs: 0,
      overheadMs: 0,
      status: 'finished',
    });

    const transferred = new TransferredReceiptsRepository(store, a.ss58);
    const scoredAt = Date.now();
    await transferred.insert(
      [
        // B: 700 of 1000 validator stake → 2 × 0.7 × 12 s = 16.8 s per block, 1680 s in the cycle.
        ...organicJob(b, scoredAt - 60_000, '90.000000'),
        ...organicJob(b, scoredAt - 30_000, '2000.000000'), // more than B's allowance: dropped
        ...organicJob(outsider, scoredAt - 30_000, '50.000000'), // no permit, no allowance
        ...organicJob(b, batchStartedAt - 60_000, '40.000000'), // finished before this cycle's window
      ],
      scoredAt,
    );
    const facts = await buildCycleFacts({
      store: validatorStore,
      transferredReceipts: transferred,
      scoredAt,
      cycle,
      metagraph: await chain.metagraph(NETUID),
      hardwareClasses: [],
    });
    expect(allowancePaidJobsRule().apply(facts, {})).toEqual({ [miner.ss58]: { [X]: 90 } });
  }, 60_000);
});
