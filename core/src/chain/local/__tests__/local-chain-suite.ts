/**
 * LocalChain behaviour, run against each store dialect (local-chain.test.ts calls it for SQLite
 * and, where the test server is there, PostgreSQL). Two `Store` connections to the same database
 * stand for two processes.
 */
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Clock, Store } from '../../../contracts/index.js';
import { weightCommitHash } from '../../commit-hash.js';
import { ChainError } from '../../errors.js';
import { encodeManifestCommitment, decodeManifestCommitment } from '../../manifest-commitment.js';
import { LocalChain } from '../local-chain.js';

/** A clock the test moves by hand; `sleep` resolves once the clock has been advanced past it. */
export class ManualClock implements Clock {
  private waiters: Array<{ at: number; resolve: () => void }> = [];
  constructor(private t: number) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
    const due = this.waiters.filter((w) => w.at <= this.t);
    this.waiters = this.waiters.filter((w) => w.at > this.t);
    for (const w of due) w.resolve();
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      this.waiters.push({ at: this.t + ms, resolve });
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }
}

export interface StorePair {
  /** Two independent connections to one fresh database. */
  open(): Promise<[Store, Store]>;
  cleanup(): Promise<void>;
}

const BLOCK_MS = 1000;
const NETUID = 3;
// netuid 3, tempo 10: epochs are 11 blocks, epoch e starts at block 11e − 4.

export function localChainSuite(name: string, stores: () => StorePair): void {
  describe(`LocalChain on ${name}`, () => {
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    let validator: string;
    let validator2: string;
    let miner: string;
    let miner2: string;
    let coldkey: string;
    let pair: StorePair;
    let a: Store;
    let b: Store;
    let clock: ManualClock;
    const chains: LocalChain[] = [];

    beforeAll(async () => {
      await cryptoWaitReady();
      validator = keyring.addFromUri('//Alice').address;
      validator2 = keyring.addFromUri('//Dave').address;
      miner = keyring.addFromUri('//Bob').address;
      miner2 = keyring.addFromUri('//Charlie').address;
      coldkey = keyring.addFromUri('//Eve').address;
    });

    beforeEach(async () => {
      pair = stores();
      [a, b] = await pair.open();
      clock = new ManualClock(1_700_000_000_000);
      await LocalChain.init(
        a,
        { blockTimeMs: BLOCK_MS, subnets: [{ netuid: NETUID, tempo: 10, weightsRateLimit: 5, commitRevealEnabled: true }] },
        clock,
      );
    });

    afterEach(async () => {
      for (const chain of chains.splice(0)) await chain.close();
      await a.close();
      await b.close();
      await pair.cleanup();
    });

    async function open(store: Store, hotkey?: string): Promise<LocalChain> {
      const chain = await LocalChain.open({ store, clock, netuid: NETUID, ...(hotkey ? { hotkey } : {}) });
      chains.push(chain);
      return chain;
    }

    /** Moves the clock to the start of `block`. */
    async function goToBlock(chain: LocalChain, block: number): Promise<void> {
      clock.advance(Math.max(0, await chain.ledger.msUntilBlock(block)));
      expect(await chain.currentBlock()).toBe(block);
    }

    async function registerAll(admin: LocalChain): Promise<void> {
      await admin.registerNeuron({ hotkey: validator, coldkey, stake: 1000, validatorPermit: true });
      await admin.registerNeuron({ hotkey: miner, coldkey, stake: 0 });
      await admin.registerNeuron({ hotkey: miner2, coldkey, stake: 0 });
    }

    it('starts at block 1 and derives blocks from the clock in every process', async () => {
      const admin = await open(a);
      const other = await open(b, miner);
      expect(await admin.currentBlock()).toBe(1);
      clock.advance(5 * BLOCK_MS + 10);
      expect(await admin.currentBlock()).toBe(6);
      expect(await other.currentBlock()).toBe(6);
    });

    it('refuses a second init unless reset, and tells how to start one when missing', async () => {
      await expect(LocalChain.init(b, { subnets: [{ netuid: 1 }] }, clock)).rejects.toThrow(/already holds a LocalChain/);
      await LocalChain.init(b, { subnets: [{ netuid: 1 }], reset: true }, clock);
      const fresh = await open(a);
      expect(await fresh.ledger.subnets()).toEqual([1]);
    });

    it('shows the same metagraph to two processes', async () => {
      const admin = await open(a);
      await registerAll(admin);
      await admin.addStake({ hotkey: validator, alpha: 500, tao: 100 });
      const minerChain = await open(b, miner);
      await minerChain.serveAxon(NETUID, { ip: '127.0.0.1', port: 8000, protocol: 4, version: 1 });

      const seenByValidator = await (await open(a, validator)).metagraph(NETUID);
      const seenByMiner = await minerChain.metagraph(NETUID);
      expect(seenByMiner).toEqual(seenByValidator);
      expect(seenByMiner.neurons.map((n) => [n.uid, n.hotkey, n.validatorPermit])).toEqual([
        [0, validator, true],
        [1, miner, false],
        [2, miner2, false],
      ]);
      expect(seenByMiner.neurons[0]!.stake).toEqual({ alpha: 1500, tao: 100, total: 1500 + 100 * 0.18 });
      expect(seenByMiner.neurons[1]!.axon).toEqual({ ip: '127.0.0.1', port: 8000, ipType: 4, protocol: 4, version: 1 });
      expect(seenByMiner.neurons[2]!.axon).toBeNull();
      expect(seenByMiner.neurons.every((n) => n.active && n.coldkey === coldkey)).toBe(true);
    });

    it('refuses a second registration of a hotkey and unknown subnets', async () => {
      const admin = await open(a);
      await admin.registerNeuron({ hotkey: miner, coldkey });
      await expect(admin.registerNeuron({ hotkey: miner, coldkey })).rejects.toMatchObject({ code: 'HotKeyAlreadyRegisteredInSubNet' });
      await expect(admin.registerNeuron({ netuid: 99, hotkey: miner, coldkey })).rejects.toMatchObject({ code: 'SubnetNotExists' });
      await expect(admin.registerNeuron({ hotkey: 'not-an-address', coldkey })).rejects.toMatchObject({ code: 'HORDE_INVALID_ADDRESS' });
    });

    it('registers many neurons in one write, with their axons, and none when one is refused', async () => {
      const admin = await open(a);
      const axon = { ip: '127.0.0.1', port: 9000, protocol: 4, version: 0 };
      expect(
        await admin.ledger.registerNeurons([
          { netuid: NETUID, hotkey: validator, coldkey, stake: 1000, validatorPermit: true },
          { netuid: NETUID, hotkey: miner, coldkey, axon },
        ]),
      ).toEqual([
        { uid: 0, block: 1 },
        { uid: 1, block: 1 },
      ]);
      const graph = await admin.metagraph(NETUID);
      expect(graph.neurons.map((n) => [n.uid, n.hotkey, n.validatorPermit, n.axon?.port ?? null])).toEqual([
        [0, validator, true, null],
        [1, miner, false, 9000],
      ]);
      // One refused (already registered, or a bad axon): the whole write is refused, miner2 too.
      await expect(
        admin.ledger.registerNeurons([
          { netuid: NETUID, hotkey: miner2, coldkey },
          { netuid: NETUID, hotkey: miner, coldkey },
        ]),
      ).rejects.toMatchObject({ code: 'HotKeyAlreadyRegisteredInSubNet' });
      await expect(
        admin.ledger.registerNeurons([{ netuid: NETUID, hotkey: miner2, coldkey, axon: { ...axon, port: 70_000 } }]),
      ).rejects.toMatchObject({ code: 'InvalidPort' });
      await expect(
        admin.ledger.registerNeurons([
          { netuid: NETUID, hotkey: miner2, coldkey },
          { netuid: NETUID, hotkey: miner2, coldkey },
        ]),
      ).rejects.toMatchObject({ code: 'HotKeyAlreadyRegisteredInSubNet' });
      expect((await admin.metagraph(NETUID)).neurons).toHaveLength(2);
    });

    it('commits in one epoch, reveals in the next, and another process sees the weights and incentive', async () => {
      const admin = await open(a);
      await registerAll(admin);
      const chainA = await open(a, validator);
      // Registration counts as a weight update (subtensor sets LastUpdate): the first commit may
      // go in at block 1 + WeightsSetRateLimit.
      expect(await chainA.submitWeights(NETUID, [{ uid: 1, weight: 1 }])).toEqual({
        status: 'rate_limited',
        blocksRemaining: 5,
        nextBlock: 6,
      });
      await goToBlock(chainA, 6);
      const committed = await chainA.submitWeights(NETUID, [
        { uid: 1, weight: 3 },
        { uid: 2, weight: 1 },
      ]);
      // block 6 is in epoch (6 + 4) / 11 = 0; the reveal epoch 1 starts at block 7.
      expect(committed).toEqual({ status: 'committed', block: 6, revealBlock: 7, mode: 'commit_reveal_v2' });
      expect((await admin.weights(NETUID)).size).toBe(0);
      expect(await chainA.revealPendingWeights(NETUID)).toEqual([{ commitBlock: 6, status: 'not_yet' }]);

      await goToBlock(chainA, 7);
      // A restarted validator: a new handle on a new connection still has the salt and reveals.
      const restarted = await open(b, validator);
      expect(await restarted.revealPendingWeights(NETUID)).toEqual([{ commitBlock: 6, status: 'revealed', block: 7 }]);
      expect(await restarted.revealPendingWeights(NETUID)).toEqual([]);

      const weights = await (await open(b, miner)).weights(NETUID);
      expect(weights.get(0)).toEqual([
        { uid: 1, weight: 65535 / (65535 + 21845) },
        { uid: 2, weight: 21845 / (65535 + 21845) },
      ]);
      expect((await chainA.ledger.rawWeights(NETUID)).get(0)).toEqual([
        { uid: 1, value: 65535 },
        { uid: 2, value: 21845 },
      ]);

      // The next epoch (block 18) turns the weights into incentive.
      await goToBlock(chainA, 18);
      const graph = await admin.metagraph(NETUID);
      expect(graph.neurons[1]!.incentive).toBeCloseTo(0.75, 4);
      expect(graph.neurons[2]!.incentive).toBeCloseTo(0.25, 4);
      const emissions = await admin.ledger.emissions(NETUID);
      expect(emissions.get(0)!.dividends).toBeCloseTo(1, 9);
      expect(emissions.get(1)!.emission).toBeCloseTo(0.5 * 11 * 0.75, 4);
    });

    it('rejects a reveal that does not match the commit with InvalidRevealCommitHashNotMatch', async () => {
      const admin = await open(a);
      await registerAll(admin);
      const hash = weightCommitHash({
        hotkey: validator,
        netuidIndex: NETUID,
        uids: [1, 2],
        values: [65535, 100],
        salt: [9, 9],
        versionKey: 0,
      });
      await goToBlock(admin, 6);
      await admin.ledger.commitWeights(validator, NETUID, hash);
      await goToBlock(admin, 7);
      const err = await admin.ledger.revealWeights(validator, NETUID, [1, 2], [65535, 101], [9, 9], 0).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ChainError);
      expect(err).toMatchObject({ code: 'InvalidRevealCommitHashNotMatch' });
      // The rejected reveal changed nothing: the right one still goes through.
      await expect(admin.ledger.revealWeights(validator, NETUID, [1, 2], [65535, 100], [9, 9], 0)).resolves.toBe(7);
    });

    it('enforces the reveal epoch: RevealTooEarly, then ExpiredWeightCommit, NoWeightsCommitFound', async () => {
      const admin = await open(a);
      await registerAll(admin);
      const reveal = () => admin.ledger.revealWeights(validator, NETUID, [1], [65535], [1], 0);
      await expect(reveal()).rejects.toMatchObject({ code: 'NoWeightsCommitFound' });
      await goToBlock(admin, 6);
      await admin.ledger.commitWeights(
        validator,
        NETUID,
        weightCommitHash({ hotkey: validator, netuidIndex: NETUID, uids: [1], values: [65535], salt: [1], versionKey: 0 }),
      );
      await goToBlock(admin, 6); // still the commit epoch
      await expect(reveal()).rejects.toMatchObject({ code: 'RevealTooEarly' });
      await goToBlock(admin, 18); // epoch 2: past the reveal epoch
      await expect(reveal()).rejects.toMatchObject({ code: 'ExpiredWeightCommit' });
    });

    it('marks a commit expired when its reveal epoch was missed', async () => {
      const admin = await open(a);
      await registerAll(admin);
      const chainA = await open(a, validator);
      await goToBlock(chainA, 6);
      await chainA.submitWeights(NETUID, [{ uid: 1, weight: 1 }]);
      await goToBlock(chainA, 18);
      expect(await chainA.revealPendingWeights(NETUID)).toEqual([{ commitBlock: 6, status: 'expired' }]);
    });

    it('refuses commits inside the rate limit with CommittingWeightsTooFast, and the client waits instead', async () => {
      const admin = await open(a);
      await registerAll(admin);
      const chainA = await open(a, validator);
      await goToBlock(chainA, 7);
      expect(await chainA.submitWeights(NETUID, [{ uid: 1, weight: 1 }])).toMatchObject({ status: 'committed', block: 7 });
      await goToBlock(chainA, 9);
      expect(await chainA.submitWeights(NETUID, [{ uid: 1, weight: 1 }])).toEqual({
        status: 'rate_limited',
        blocksRemaining: 3,
        nextBlock: 12,
      });
      const err = (await admin.ledger.commitWeights(validator, NETUID, `0x${'00'.repeat(32)}`).catch((e: unknown) => e)) as ChainError;
      expect(err).toMatchObject({ code: 'CommittingWeightsTooFast', blocksRemaining: 3, nextBlock: 12 });
    });

    describe('with commit-reveal off', () => {
      beforeEach(async () => {
        const admin = await open(a);
        await admin.setHyperparameters(NETUID, { commitRevealEnabled: false });
        await registerAll(admin);
      });

      it('sets weights directly and refuses the next ones too fast with the blocks remaining', async () => {
        const chainA = await open(a, validator);
        await goToBlock(chainA, 7);
        expect(
          await chainA.submitWeights(NETUID, [
            { uid: 1, weight: 1 },
            { uid: 2, weight: 1 },
          ]),
        ).toEqual({ status: 'set', block: 7, mode: 'set_weights' });
        expect((await (await open(b)).weights(NETUID)).get(0)).toEqual([
          { uid: 1, weight: 0.5 },
          { uid: 2, weight: 0.5 },
        ]);
        await goToBlock(chainA, 10);
        // What a client that did not check would get from the chain:
        const err = (await chainA.ledger.setWeights(validator, NETUID, [1], [65535], 0).catch((e: unknown) => e)) as ChainError;
        expect(err).toBeInstanceOf(ChainError);
        expect(err.code).toBe('SettingWeightsTooFast');
        expect(err.blocksRemaining).toBe(2);
        expect(err.message).toContain('2 blocks remaining');
        // What submitWeights does instead: send nothing and say when to try again.
        expect(await chainA.submitWeights(NETUID, [{ uid: 1, weight: 1 }])).toEqual({
          status: 'rate_limited',
          blocksRemaining: 2,
          nextBlock: 12,
        });
        await goToBlock(chainA, 12);
        expect(await chainA.submitWeights(NETUID, [{ uid: 1, weight: 1 }])).toEqual({ status: 'set', block: 12, mode: 'set_weights' });
        expect((await chainA.metagraph(NETUID)).neurons[0]!.lastUpdate).toBe(12);
      });

      it('refuses commits with CommitRevealDisabled', async () => {
        await expect((await open(a)).ledger.commitWeights(validator, NETUID, `0x${'11'.repeat(32)}`)).rejects.toMatchObject({
          code: 'CommitRevealDisabled',
        });
      });

      it('applies subtensor checks: permit, uids, version key', async () => {
        const admin = await open(a);
        const ledger = admin.ledger;
        await goToBlock(admin, 6);
        await expect(ledger.setWeights(miner, NETUID, [0, 2], [1, 1], 0)).rejects.toMatchObject({ code: 'NeuronNoValidatorPermit' });
        // A self-weight needs no permit.
        await expect(ledger.setWeights(miner, NETUID, [1], [1], 0)).resolves.toBe(6);
        await expect(ledger.setWeights(validator, NETUID, [1, 1], [1, 1], 0)).rejects.toMatchObject({ code: 'DuplicateUids' });
        await expect(ledger.setWeights(validator, NETUID, [7], [1], 0)).rejects.toMatchObject({ code: 'UidVecContainInvalidOne' });
        await expect(ledger.setWeights(validator, NETUID, [1], [1, 2], 0)).rejects.toMatchObject({ code: 'WeightVecNotEqualSize' });
        await expect(ledger.setWeights(validator2, NETUID, [1], [1], 0)).rejects.toMatchObject({ code: 'HotKeyNotRegisteredInSubNet' });
        await admin.setHyperparameters(NETUID, { weightsVersionKey: 5, minAllowedWeights: 2 });
        await expect(ledger.setWeights(validator, NETUID, [1, 2], [1, 1], 4)).rejects.toMatchObject({ code: 'IncorrectWeightVersionKey' });
        await expect(ledger.setWeights(validator, NETUID, [1], [1], 5)).rejects.toMatchObject({ code: 'WeightVecLengthIsLow' });
        await expect(ledger.setWeights(validator, NETUID, [1, 2], [1, 1], 5)).resolves.toBe(6);
      });
    });

    it('refuses set_weights with CommitRevealEnabled when commit-reveal is on', async () => {
      const admin = await open(a);
      await registerAll(admin);
      await expect(admin.ledger.setWeights(validator, NETUID, [1], [1], 0)).rejects.toMatchObject({ code: 'CommitRevealEnabled' });
    });

    it('keeps manifest commitments per hotkey, visible to other processes', async () => {
      const admin = await open(a);
      await registerAll(admin);
      const minerChain = await open(a, miner);
      const text = encodeManifestCommitment({ 'always_on.llm.a6000': 2, 'always_on.cpu.8c.16gb': 4 });
      await minerChain.setCommitment(NETUID, text);
      const reader = await open(b, validator);
      expect(await reader.commitment(NETUID, miner)).toBe('<M:C4;L2>');
      expect(decodeManifestCommitment((await reader.commitment(NETUID, miner))!).manifest).toEqual({
        'always_on.cpu.8c.16gb': 4,
        'always_on.llm.a6000': 2,
      });
      expect(await reader.commitment(NETUID, miner2)).toBeNull();
      await expect(minerChain.setCommitment(NETUID, 'x'.repeat(129))).rejects.toMatchObject({ code: 'SpaceLimitExceeded' });
      await expect((await open(a, validator2)).setCommitment(NETUID, 'hi')).rejects.toMatchObject({ code: 'AccountNotAllowedCommit' });
    });

    it('rate-limits axon serving but skips unchanged axons', async () => {
      const admin = await open(a);
      await registerAll(admin);
      const minerChain = await open(a, miner);
      const axon = { ip: '10.0.0.5', port: 9000, protocol: 4, version: 1 };
      await minerChain.serveAxon(NETUID, axon);
      await minerChain.serveAxon(NETUID, axon); // unchanged: nothing sent, no error
      await expect(minerChain.serveAxon(NETUID, { ...axon, port: 9001 })).rejects.toMatchObject({
        code: 'ServingRateLimitExceeded',
        blocksRemaining: 50,
      });
      await expect(minerChain.ledger.serveAxon(miner, NETUID, { ...axon, port: 0 })).rejects.toBeInstanceOf(ChainError);
      await expect((await open(a, validator2)).serveAxon(NETUID, axon)).rejects.toMatchObject({ code: 'HotKeyNotRegisteredInNetwork' });
    });

    it('streams blocks as the clock moves', async () => {
      const chain = await open(a, miner);
      const seen: number[] = [];
      const stop = chain.onBlock((block) => seen.push(block));
      await vi_waitFor(() => seen.length === 1);
      clock.advance(BLOCK_MS);
      await vi_waitFor(() => seen.length === 2);
      clock.advance(3 * BLOCK_MS);
      await vi_waitFor(() => seen.length === 3);
      stop();
      expect(seen).toEqual([1, 2, 5]);
    });
  });
}

async function vi_waitFor(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
