import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { u8aToHex } from '@polkadot/util';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../contracts/index.js';
import { loadHotkey, type Hotkey } from '../../keys/index.js';
import { openStore } from '../../store/index.js';
import { weightCommitHash } from '../commit-hash.js';
import { ChainError } from '../errors.js';
import { WeightCommitStore } from '../weight-commit-store.js';
import { FakeSubtensor } from './__tests__/fake-subtensor.js';
import { SubtensorChain } from './subtensor-chain.js';

const NETUID = 12;
const RAO = 1_000_000_000n;

describe('SubtensorChain against a websocket JSON-RPC node with subtensor metadata', () => {
  let node: FakeSubtensor;
  let store: Store;
  let dir: string;
  let alice: Hotkey;
  let bob: Hotkey;
  let charlie: Hotkey;
  const chains: SubtensorChain[] = [];

  beforeAll(async () => {
    [alice, bob, charlie] = await Promise.all([
      loadHotkey({ uri: '//Alice' }),
      loadHotkey({ uri: '//Bob' }),
      loadHotkey({ uri: '//Charlie' }),
    ]);
  });

  beforeEach(async () => {
    node = await FakeSubtensor.start({ startBlock: 100 });
    dir = mkdtempSync(join(tmpdir(), 'horde-subtensor-'));
    store = await openStore({ client: 'sqlite', filename: join(dir, 'horde.sqlite') });
    // Subnet 12: Alice (uid 0) validates, Bob and Charlie mine.
    node.setStorage('subtensorModule', 'networksAdded', [NETUID], true);
    node.setStorage('subtensorModule', 'subnetworkN', [NETUID], 3);
    node.setStorage('subtensorModule', 'tempo', [NETUID], 10);
    node.setStorage('subtensorModule', 'weightsSetRateLimit', [NETUID], 20);
    node.setStorage('subtensorModule', 'minAllowedWeights', [NETUID], 1);
    node.setStorage('subtensorModule', 'commitRevealWeightsEnabled', [NETUID], false);
    node.setStorage('subtensorModule', 'revealPeriodEpochs', [NETUID], 1);
    node.setStorage('subtensorModule', 'weightsVersionKey', [NETUID], 7);
    for (const [uid, key] of [alice, bob, charlie].entries()) node.setStorage('subtensorModule', 'uids', [NETUID, key.ss58], uid);
    node.setStorage('subtensorModule', 'lastUpdate', [NETUID], [50, 0, 0]);
  });

  afterEach(async () => {
    for (const chain of chains.splice(0)) await chain.close();
    await store.close();
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function connect(hotkey: Hotkey = alice): Promise<SubtensorChain> {
    const chain = await SubtensorChain.connect({ network: node.url, hotkey, store, submitTimeoutMs: 10_000 });
    chains.push(chain);
    return chain;
  }

  function submitted(section: string, method: string) {
    return node.extrinsics.filter((x) => x.section === section && x.method === method);
  }

  it("reads the chain's clock (Timestamp.now) for the clock-skew check", async () => {
    node.setStorage('timestamp', 'now', [], 1_765_000_000_123);
    const chain = await connect();
    expect(await chain.chainTime()).toBe(1_765_000_000_123);
  });

  describe('metagraph', () => {
    function serveMetagraph(value: Record<string, unknown> | null): void {
      const reply = node.registry.createType('Option<PalletSubtensorRpcInfoMetagraph>', value);
      node.setRuntimeApi('SubnetInfoRuntimeApi_get_metagraph', (args) => {
        expect(args).toBe('0x0c00'); // netuid 12 as a u16, little-endian
        return u8aToHex(reply.toU8a());
      });
    }

    it('reads one get_metagraph runtime call and decodes stakes, axons, permits and incentive', async () => {
      serveMetagraph({
        netuid: NETUID,
        block: 100,
        tempo: 360,
        hotkeys: [alice.ss58, bob.ss58, charlie.ss58],
        coldkeys: [charlie.ss58, charlie.ss58, alice.ss58],
        axons: [
          { block: 10, version: 10002000, ip: 0, port: 0, ipType: 0, protocol: 0 },
          { block: 20, version: 1, ip: 0x01020304, port: 8091, ipType: 4, protocol: 4 },
          { block: 30, version: 1, ip: '42540766411282592856903984951653826561', port: 9000, ipType: 6, protocol: 4 },
        ],
        active: [true, true, false],
        validatorPermit: [true, false, false],
        lastUpdate: [95, 3, 0],
        incentives: [0, 49151, 16384],
        // 10 million TAO in rao is past 2^53: it must still decode exactly enough.
        alphaStake: [10_000_000n * RAO, 0n, (1n * RAO) / 2n],
        taoStake: [1000n * RAO, 0n, 0n],
        totalStake: [10_000_000n * RAO + 180n * RAO, 0n, (1n * RAO) / 2n],
      });
      const chain = await connect();
      const graph = await chain.metagraph(NETUID);
      expect(node.rpcLog.filter((c) => c.method === 'state_call' && c.params[0] === 'SubnetInfoRuntimeApi_get_metagraph')).toHaveLength(1);
      expect(graph.netuid).toBe(NETUID);
      expect(graph.block).toBe(100);
      expect(graph.neurons).toEqual([
        {
          uid: 0,
          hotkey: alice.ss58,
          coldkey: charlie.ss58,
          stake: { alpha: 10_000_000, tao: 1000, total: 10_000_180 },
          validatorPermit: true,
          active: true,
          axon: null,
          incentive: 0,
          lastUpdate: 95,
        },
        {
          uid: 1,
          hotkey: bob.ss58,
          coldkey: charlie.ss58,
          stake: { alpha: 0, tao: 0, total: 0 },
          validatorPermit: false,
          active: true,
          axon: { ip: '1.2.3.4', port: 8091, ipType: 4, protocol: 4, version: 1 },
          incentive: 49151 / 65535,
          lastUpdate: 3,
        },
        {
          uid: 2,
          hotkey: charlie.ss58,
          coldkey: alice.ss58,
          stake: { alpha: 0.5, tao: 0, total: 0.5 },
          validatorPermit: false,
          active: false,
          axon: { ip: '2001:db8::1', port: 9000, ipType: 6, protocol: 4, version: 1 },
          incentive: 16384 / 65535,
          lastUpdate: 0,
        },
      ]);
    });

    it('says the subnet does not exist when the runtime returns None', async () => {
      serveMetagraph(null);
      const chain = await connect();
      await expect(chain.metagraph(NETUID)).rejects.toMatchObject({ code: 'SubnetNotExists' });
    });

    it('refuses a reply whose vectors disagree in length', async () => {
      serveMetagraph({ netuid: NETUID, hotkeys: [alice.ss58, bob.ss58], coldkeys: [alice.ss58] });
      const chain = await connect();
      await expect(chain.metagraph(NETUID)).rejects.toMatchObject({ code: 'InvalidChainReply' });
    });
  });

  it('reads hyperparameters from storage', async () => {
    const chain = await connect();
    expect(await chain.hyperparameters(NETUID)).toEqual({
      tempo: 10,
      weightsRateLimit: 20,
      minAllowedWeights: 1,
      maxWeightsLimit: 65535, // not stored: the metadata default
      commitRevealEnabled: false,
      revealPeriodEpochs: 1,
      weightsVersion: 7,
      commitRevealVersion: 4, // not stored: the metadata default (timelocked commits)
    });
    node.setStorage('subtensorModule', 'networksAdded', [NETUID], false);
    // The node pushes the change to @polkadot/api's (shared) storage subscription; reads follow it.
    await expect
      .poll(
        () =>
          chain.hyperparameters(NETUID).then(
            () => 'exists',
            (e: ChainError) => e.code,
          ),
        { timeout: 5000 },
      )
      .toBe('SubnetNotExists');
  });

  it('streams new block numbers', async () => {
    const chain = await connect();
    expect(await chain.currentBlock()).toBe(100);
    const seen: number[] = [];
    const stop = chain.onBlock((b) => seen.push(b));
    await waitFor(() => seen.includes(100));
    node.produceBlock();
    node.produceBlock();
    await waitFor(() => seen.includes(102));
    stop();
    expect(seen).toEqual([100, 101, 102]);
  });

  describe('with commit-reveal off', () => {
    it('submits SubtensorModule.set_weights with SDK-converted u16 weights, signed by the hotkey', async () => {
      const chain = await connect();
      const result = await chain.submitWeights(NETUID, [
        { uid: 1, weight: 0.6 },
        { uid: 2, weight: 0.2 },
        { uid: 0, weight: 0 },
      ]);
      expect(result).toEqual({ status: 'set', block: 101, mode: 'set_weights' });
      expect(node.extrinsics).toHaveLength(1);
      expect(node.extrinsics[0]).toMatchObject({
        section: 'subtensorModule',
        method: 'setWeights',
        signer: alice.ss58,
        // 0.2 / 0.6 × 65535 = 21845; the zero weight is dropped; version key defaults to the chain's.
        args: { netuid: NETUID, dests: [1, 2], weights: [65535, 21845], versionKey: 7 },
      });
    });

    it('does not send before WeightsSetRateLimit has passed and says when to try', async () => {
      node.setStorage('subtensorModule', 'lastUpdate', [NETUID], [95, 0, 0]);
      const chain = await connect();
      expect(await chain.submitWeights(NETUID, [{ uid: 1, weight: 1 }])).toEqual({
        status: 'rate_limited',
        blocksRemaining: 14,
        nextBlock: 115,
      });
      expect(node.extrinsics).toHaveLength(0);
    });

    it("maps the chain's dispatch error to a ChainError with the pallet's error name", async () => {
      node.onExtrinsic = () => ({ dispatchError: 'SettingWeightsTooFast' });
      const chain = await connect();
      const error = await chain.submitWeights(NETUID, [{ uid: 1, weight: 1 }]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ChainError);
      expect(error).toMatchObject({ code: 'SettingWeightsTooFast' });
      expect((error as Error).message).toContain('subtensorModule.SettingWeightsTooFast');
    });

    it('refuses for an unregistered hotkey without sending', async () => {
      const stranger = await loadHotkey({ uri: '//Ferdie' });
      const chain = await connect(stranger);
      await expect(chain.submitWeights(NETUID, [{ uid: 1, weight: 1 }])).rejects.toMatchObject({ code: 'HotKeyNotRegisteredInSubNet' });
      expect(node.extrinsics).toHaveLength(0);
    });
  });

  describe('with hash commit-reveal (v2) on', () => {
    beforeEach(() => {
      node.setStorage('subtensorModule', 'commitRevealWeightsEnabled', [NETUID], true);
      // A runtime whose CommitRevealWeightsVersion is not 4 takes hash commits (v4: subtensor-chain-timelock.test.ts).
      node.setStorage('subtensorModule', 'commitRevealWeightsVersion', [], 3);
      // What subtensor does on commit_weights: queue the hash with its reveal window.
      node.onExtrinsic = (x) => {
        if (x.method === 'commitWeights') {
          const block = node.bestNumber + 1;
          // netuid 12, tempo 10: epochs of 11 blocks starting at 11e − 13.
          const epoch = Math.floor((block + 13) / 11);
          const first = (epoch + 1) * 11 - 13;
          node.setStorage('subtensorModule', 'weightCommits', [NETUID, x.signer], [[x.args['commitHash'], block, first, first + 10]]);
        }
      };
    });

    it('commits blake2(SCALE(hotkey, netuid, uids, values, salt, version)) and reveals in the reveal epoch, also after a restart', async () => {
      const chain = await connect();
      const result = await chain.submitWeights(NETUID, [
        { uid: 1, weight: 3 },
        { uid: 2, weight: 1 },
      ]);
      // block 101 is in epoch (101 + 13) / 11 = 10; epoch 11 starts at block 108.
      expect(result).toEqual({ status: 'committed', block: 101, revealBlock: 108, mode: 'commit_reveal_v2' });
      const [commit] = submitted('subtensorModule', 'commitWeights');
      expect(commit).toMatchObject({ signer: alice.ss58, args: { netuid: NETUID } });
      const [stored] = await new WeightCommitStore(store.db).pending(node.url, alice.ss58, NETUID);
      expect(stored).toMatchObject({
        uids: [1, 2],
        values: [65535, 21845],
        versionKey: 7,
        commitBlock: 101,
        firstRevealBlock: 108,
        lastRevealBlock: 118,
      });
      expect(stored!.salt).toHaveLength(8);
      expect(commit!.args['commitHash']).toBe(
        weightCommitHash({
          hotkey: alice.ss58,
          netuidIndex: NETUID,
          uids: [1, 2],
          values: [65535, 21845],
          salt: stored!.salt,
          versionKey: 7,
        }),
      );

      expect(await chain.revealPendingWeights(NETUID)).toEqual([{ commitBlock: 101, status: 'not_yet' }]);
      await chain.close();
      chains.splice(chains.indexOf(chain), 1);
      while (node.bestNumber < 107) node.produceBlock();

      // A new process on the same store reveals the commit.
      const restarted = await connect();
      expect(await restarted.revealPendingWeights(NETUID)).toEqual([{ commitBlock: 101, status: 'revealed', block: 108 }]);
      const [reveal] = submitted('subtensorModule', 'revealWeights');
      expect(reveal).toMatchObject({
        signer: alice.ss58,
        args: { netuid: NETUID, uids: [1, 2], values: [65535, 21845], salt: stored!.salt, versionKey: 7 },
      });
      expect(await restarted.revealPendingWeights(NETUID)).toEqual([]);
    });

    it('recovers a commit whose inclusion was never recorded from the WeightCommits storage', async () => {
      const chain = await connect();
      await chain.submitWeights(NETUID, [{ uid: 1, weight: 1 }]);
      // Simulate a crash between sending and recording the block.
      await store.db('chain_weight_commits').update({ commit_block: null, first_reveal_block: null, last_reveal_block: null });
      while (node.bestNumber < 108) node.produceBlock();
      expect(await chain.revealPendingWeights(NETUID)).toEqual([{ commitBlock: 101, status: 'revealed', block: 109 }]);
    });

    it('reports a reveal the pool refuses with the CustomTransactionError name', async () => {
      const chain = await connect();
      await chain.submitWeights(NETUID, [{ uid: 1, weight: 1 }]);
      node.onExtrinsic = (x) => (x.method === 'revealWeights' ? { poolError: 16 } : undefined);
      while (node.bestNumber < 108) node.produceBlock();
      expect(await chain.revealPendingWeights(NETUID)).toEqual([{ commitBlock: 101, status: 'failed', error: 'CommitNotFound' }]);
    });

    it('marks a commit expired when the chain says so', async () => {
      const chain = await connect();
      await chain.submitWeights(NETUID, [{ uid: 1, weight: 1 }]);
      node.onExtrinsic = (x) => (x.method === 'revealWeights' ? { dispatchError: 'ExpiredWeightCommit' } : undefined);
      while (node.bestNumber < 108) node.produceBlock();
      expect(await chain.revealPendingWeights(NETUID)).toEqual([{ commitBlock: 101, status: 'expired', error: 'ExpiredWeightCommit' }]);
      expect(await new WeightCommitStore(store.db).pending(node.url, alice.ss58, NETUID)).toEqual([]);
    });
  });

  it('serves the axon with serve_axon and skips an unchanged one', async () => {
    const chain = await connect(bob);
    await chain.serveAxon(NETUID, { ip: '1.2.3.4', port: 8091, protocol: 4, version: 10002000 });
    expect(node.extrinsics).toHaveLength(1);
    expect(node.extrinsics[0]).toMatchObject({
      section: 'subtensorModule',
      method: 'serveAxon',
      signer: bob.ss58,
      args: { netuid: NETUID, version: 10002000, ip: 0x01020304, port: 8091, ipType: 4, protocol: 4, placeholder1: 0, placeholder2: 0 },
    });
    node.setStorage('subtensorModule', 'axons', [NETUID, bob.ss58], {
      block: 101,
      version: 10002000,
      ip: 0x01020304,
      port: 8091,
      ipType: 4,
      protocol: 4,
    });
    await chain.serveAxon(NETUID, { ip: '1.2.3.4', port: 8091, protocol: 4, version: 10002000 });
    expect(node.extrinsics).toHaveLength(1);
  });

  it('writes and reads the knowledge commitment that carries the manifest', async () => {
    const chain = await connect(bob);
    await chain.setCommitment(NETUID, '<M:C4;L2>');
    expect(node.extrinsics[0]).toMatchObject({
      section: 'commitments',
      method: 'setCommitment',
      signer: bob.ss58,
      // [u8; 9] of printable bytes reads back as text
      args: { netuid: NETUID, info: { fields: [{ raw9: '<M:C4;L2>' }] } },
    });
    expect(await chain.commitment(NETUID, bob.ss58)).toBeNull();
    node.setStorage('commitments', 'commitmentOf', [NETUID, bob.ss58], {
      deposit: 0,
      block: 101,
      info: { fields: [{ Raw9: '<M:C4;L2>' }] },
    });
    expect(await chain.commitment(NETUID, bob.ss58)).toBe('<M:C4;L2>');
    await expect(chain.setCommitment(NETUID, 'x'.repeat(129))).rejects.toMatchObject({ code: 'HORDE_INVALID_COMMITMENT' });
  });

  it('reads the weights each validator has set, normalised', async () => {
    node.setStorage(
      'subtensorModule',
      'weights',
      [NETUID, 0],
      [
        [1, 65535],
        [2, 21845],
      ],
    );
    const chain = await connect();
    const weights = await chain.weights(NETUID);
    expect([...weights.keys()]).toEqual([0]);
    expect(weights.get(0)).toEqual([
      { uid: 1, weight: 65535 / 87380 },
      { uid: 2, weight: 21845 / 87380 },
    ]);
  });

  it('names the endpoint when it cannot connect', async () => {
    await expect(SubtensorChain.connect({ network: 'ws://127.0.0.1:1', hotkey: alice, store })).rejects.toMatchObject({
      code: 'ConnectionFailed',
    });
  });
});

async function waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
