import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalChain } from '../chain/local/local-chain.js';
import type { Store } from '../contracts/index.js';
import { loadHotkey } from '../keys/index.js';
import { SystemClock } from '../time/clock.js';
import { openStore } from '../store/index.js';
import { ValidatorStore } from './store.js';
import { WeightSetter } from './weights.js';

const NETUID = 3;
const logger = pino({ level: 'silent' });
const clock = new SystemClock();
let store: Store;
let validatorHotkey: string;
let minerUid: number;

beforeAll(async () => {
  store = await openStore({ client: 'sqlite', filename: ':memory:' });
  await LocalChain.init(store, {
    blockTimeMs: 100,
    subnets: [{ netuid: NETUID, tempo: 9, weightsRateLimit: 5, commitRevealEnabled: false }],
  });
  const admin = await LocalChain.open({ store, netuid: NETUID });
  validatorHotkey = (await loadHotkey({ uri: '//WeightsValidator' })).ss58;
  const miner = (await loadHotkey({ uri: '//WeightsMiner' })).ss58;
  await admin.ledger.registerNeuron({
    netuid: NETUID,
    hotkey: validatorHotkey,
    coldkey: validatorHotkey,
    stake: 1000,
    validatorPermit: true,
  });
  minerUid = (await admin.ledger.registerNeuron({ netuid: NETUID, hotkey: miner, coldkey: miner })).uid;
  await admin.close();
});
afterAll(async () => {
  await store.close();
});

describe('WeightSetter', () => {
  it('sets weights, waits out the rate limit on the next cycle, and records every attempt', async () => {
    const chain = await LocalChain.open({ store, hotkey: validatorHotkey, netuid: NETUID });
    const records = new ValidatorStore(store, validatorHotkey);
    const setter = new WeightSetter({ chain, store: records, netuid: NETUID, clock, logger, attempts: 5, retryDelayMs: 200 });
    const first = await setter.submit(1, [{ uid: minerUid, weight: 1 }]);
    expect(first).toMatchObject({ status: 'set' });
    expect((await chain.weights(NETUID)).get(0)?.[0]).toMatchObject({ uid: minerUid });

    // Right away again: 5 blocks (500 ms) of rate limit, retried every 200 ms until it lands.
    const second = await setter.submit(2, [{ uid: minerUid, weight: 1 }]);
    expect(second).toMatchObject({ status: 'set' });
    const attempts = await records.weights(2);
    expect(attempts[0]).toMatchObject({
      status: 'rate_limited',
      attempts: 1,
      error: expect.stringMatching(/rate limited for \d+ more blocks/),
    });
    expect(attempts.at(-1)).toMatchObject({ status: 'set', uids: [minerUid], weights: [1] });
    expect(await records.weightsLanded(2)).toBe(true);
    await chain.close();
  });

  it('gives up after the configured attempts when the chain refuses, and says why', async () => {
    const stranger = (await loadHotkey({ uri: '//NotRegistered' })).ss58;
    const chain = await LocalChain.open({ store, hotkey: stranger, netuid: NETUID });
    const records = new ValidatorStore(store, stranger);
    const setter = new WeightSetter({ chain, store: records, netuid: NETUID, clock, logger, attempts: 2, retryDelayMs: 10 });
    expect(await setter.submit(7, [{ uid: minerUid, weight: 1 }])).toBeNull();
    const attempts = await records.weights(7);
    expect(attempts.map((a) => a.status)).toEqual(['failed', 'failed']);
    expect(attempts[0]!.error).toBeTruthy();
    expect(await records.weightsLanded(7)).toBe(false);
    await chain.close();
  });
});
