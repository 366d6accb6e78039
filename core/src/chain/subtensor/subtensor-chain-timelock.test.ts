import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { Store } from '../../contracts/index.js';
import { loadHotkey, type Hotkey } from '../../keys/index.js';
import { openStore } from '../../store/index.js';
import { ChainError } from '../errors.js';
import { QUICKNET } from '../timelock/beacon.js';
import { FakeSubtensor } from './__tests__/fake-subtensor.js';
import { FakeWeightsPallet } from './__tests__/fake-weights-pallet.js';
import { SubtensorChain } from './subtensor-chain.js';

const NETUID = 12;
const fixture = JSON.parse(readFileSync(new URL('../timelock/__fixtures__/quicknet-pulses.json', import.meta.url), 'utf8')) as {
  pulses: { round: number; signature: string }[];
};
const PULSES = new Map(fixture.pulses.map((p) => [p.round, p.signature]));

// netuid 12, tempo 10: legacy epochs of 11 blocks starting at 11e − 13. From head 100 a commit lands
// in block 101 (epoch 10) and is revealed in epoch 11, from block 108. horde aims at the pulse due at
// block 108 + 3 (bittensor-drand's floor((t − genesis) / period)); with the head's timestamp chosen
// below that is quicknet round 1000, whose real pulse the fixture holds. The pulse is on chain once
// a block is stamped after its time: block 112.
const HEAD_TIME = QUICKNET.genesisTime + 1000 * QUICKNET.period - (108 + 3 - 100) * 12 + 1;

describe('SubtensorChain: timelocked commit-reveal (v4) against a node that follows the pallet', () => {
  let node: FakeSubtensor;
  let pallet: FakeWeightsPallet;
  let store: Store;
  let dir: string;
  let alice: Hotkey;
  let bob: Hotkey;
  const chains: SubtensorChain[] = [];

  beforeAll(async () => {
    [alice, bob] = await Promise.all([loadHotkey({ uri: '//Alice' }), loadHotkey({ uri: '//Bob' })]);
  });

  beforeEach(async () => {
    node = await FakeSubtensor.start({ startBlock: 100 });
    dir = mkdtempSync(join(tmpdir(), 'horde-tlock-'));
    store = await openStore({ client: 'sqlite', filename: join(dir, 'horde.sqlite') });
    node.setStorage('subtensorModule', 'networksAdded', [NETUID], true);
    node.setStorage('subtensorModule', 'subnetworkN', [NETUID], 3);
    node.setStorage('subtensorModule', 'tempo', [NETUID], 10);
    node.setStorage('subtensorModule', 'weightsSetRateLimit', [NETUID], 20);
    node.setStorage('subtensorModule', 'minAllowedWeights', [NETUID], 1);
    node.setStorage('subtensorModule', 'commitRevealWeightsEnabled', [NETUID], true);
    node.setStorage('subtensorModule', 'commitRevealWeightsVersion', [], 4);
    node.setStorage('subtensorModule', 'revealPeriodEpochs', [NETUID], 1);
    node.setStorage('subtensorModule', 'weightsVersionKey', [NETUID], 7);
    node.setStorage('subtensorModule', 'uids', [NETUID, alice.ss58], 0);
    node.setStorage('subtensorModule', 'uids', [NETUID, bob.ss58], 1);
    node.setStorage('subtensorModule', 'lastUpdate', [NETUID], [50, 0, 0]);
    pallet = new FakeWeightsPallet(node, { netuid: NETUID, beacon: QUICKNET, pulses: PULSES, startTimeSeconds: HEAD_TIME });
  });

  afterEach(async () => {
    for (const chain of chains.splice(0)) await chain.close();
    await store.close();
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function connect(hotkey: Hotkey = alice): Promise<SubtensorChain> {
    const chain = await SubtensorChain.connect({ network: node.url, hotkey, store, submitTimeoutMs: 10_000, weightRetryBackoffMs: 10 });
    chains.push(chain);
    return chain;
  }

  it('commits a quicknet-timelocked ciphertext; the chain reveals it with the real pulse at the predicted round', async () => {
    const chain = await connect();
    const result = await chain.submitWeights(NETUID, [
      { uid: 1, weight: 3 },
      { uid: 2, weight: 1 },
    ]);
    expect(result).toEqual({ status: 'committed', block: 101, revealBlock: 108, mode: 'timelocked_v4', revealRound: 1000 });
    const [commit] = node.extrinsics.filter((x) => x.method === 'commitTimelockedWeights');
    expect(commit).toMatchObject({ signer: alice.ss58, args: { netuid: NETUID, revealRound: 1000, commitRevealVersion: 4 } });
    expect(node.extrinsics.some((x) => x.method === 'setWeights' || x.method === 'commitWeights')).toBe(false);
    // Nothing to reveal on our side: the chain does it.
    expect(await chain.revealPendingWeights(NETUID)).toEqual([]);

    while (node.bestNumber < 111) node.produceBlock();
    expect(pallet.revealed).toEqual([]); // round 1000 is not out yet
    node.produceBlock();
    expect(pallet.revealed).toEqual([{ who: alice.ss58, commitBlock: 101, round: 1000, block: 112, uids: [1, 2], values: [65535, 21845] }]);
    const weights = await chain.weights(NETUID);
    expect(weights.get(0)).toEqual([
      { uid: 1, weight: 65535 / (65535 + 21845) },
      { uid: 2, weight: 21845 / (65535 + 21845) },
    ]);
  });

  it('a ciphertext copied by another hotkey is never revealed for it (the payload names the committer)', async () => {
    const chain = await connect();
    await chain.submitWeights(NETUID, [{ uid: 1, weight: 1 }]);
    const [original] = node.extrinsics.filter((x) => x.method === 'commitTimelockedWeights');
    // Bob replays Alice's bytes as his own commit in the same epoch.
    expect(pallet.onExtrinsic({ ...original!, signer: bob.ss58 })).toBeUndefined();
    while (node.bestNumber < 113) node.produceBlock();
    expect(pallet.revealed.map((r) => r.who)).toEqual([alice.ss58]);
    expect(pallet.dropped).toEqual([expect.objectContaining({ who: bob.ss58, reason: expect.stringMatching(/hotkey mismatch/) })]);
  });

  it('uses hash commits (v2) when the chain’s commit-reveal version is not 4', async () => {
    node.setStorage('subtensorModule', 'commitRevealWeightsVersion', [], 3);
    const chain = await connect();
    const result = await chain.submitWeights(NETUID, [{ uid: 1, weight: 1 }]);
    expect(result).toMatchObject({ status: 'committed', mode: 'commit_reveal_v2', block: 101, revealBlock: 108 });
  });

  it('re-reads the subnet and switches mode when the chain answers that commit-reveal was turned on', async () => {
    node.setStorage('subtensorModule', 'commitRevealWeightsEnabled', [NETUID], false);
    const rules = node.onExtrinsic;
    node.onExtrinsic = (x) => {
      // The owner's change lands just before our set_weights.
      if (x.method === 'setWeights') node.setStorage('subtensorModule', 'commitRevealWeightsEnabled', [NETUID], true);
      return rules(x);
    };
    const chain = await connect();
    const result = await chain.submitWeights(NETUID, [{ uid: 1, weight: 1 }]);
    expect(node.extrinsics.map((x) => x.method)).toEqual(['setWeights', 'commitTimelockedWeights']);
    expect(result).toMatchObject({ status: 'committed', mode: 'timelocked_v4' });
  });

  it('stops retrying at the end of the epoch and reports the chain’s error', async () => {
    node.onExtrinsic = () => ({ dispatchError: 'IncorrectCommitRevealVersion' });
    const chain = await connect();
    const error = await chain.submitWeights(NETUID, [{ uid: 1, weight: 1 }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChainError);
    expect((error as ChainError).code).toBe('IncorrectCommitRevealVersion');
    // Each refused attempt is a block; epoch 10 ends before block 108.
    const attempts = node.extrinsics.filter((x) => x.method === 'commitTimelockedWeights').length;
    expect(attempts).toBeGreaterThan(1);
    expect(node.bestNumber).toBeGreaterThanOrEqual(107);
    expect(node.bestNumber).toBeLessThanOrEqual(108);
  });

  it('follows the pallet’s version check and rate limit', async () => {
    const chain = await connect();
    await chain.submitWeights(NETUID, [{ uid: 1, weight: 1 }]);
    // A second commit within WeightsSetRateLimit is not even sent.
    expect(await chain.submitWeights(NETUID, [{ uid: 1, weight: 1 }])).toMatchObject({ status: 'rate_limited' });
    // What the pallet itself answers to a client with another version, or too fast.
    const [sent] = node.extrinsics.filter((x) => x.method === 'commitTimelockedWeights');
    expect(pallet.onExtrinsic({ ...sent!, signer: bob.ss58, args: { ...sent!.args, commitRevealVersion: 3 } })).toEqual({
      dispatchError: 'IncorrectCommitRevealVersion',
    });
    expect(pallet.onExtrinsic(sent!)).toEqual({ dispatchError: 'CommittingWeightsTooFast' });
    expect(pallet.onExtrinsic({ ...sent!, method: 'setWeights', args: { dests: [1], weights: [1], versionKey: 7 } })).toEqual({
      dispatchError: 'CommitRevealEnabled',
    });
  });
});
