import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { Store } from '../../contracts/index.js';
import { openStore } from '../../store/index.js';
import { ChainError } from '../errors.js';
import { roundAt } from '../timelock/beacon.js';
import { timelockEncrypt } from '../timelock/tle.js';
import { encodeWeightsTlockPayload } from '../timelock/payload.js';
import { ManualClock } from './__tests__/local-chain-suite.js';
import { LocalChain } from './local-chain.js';

const BLOCK_MS = 1000;
const NETUID = 3;
// netuid 3, tempo 10: epochs are 11 blocks, epoch e starts at block 11e − 4.
const GENESIS = 1_700_000_000_000;

describe('LocalChain: timelocked commit-reveal (v4) with its own beacon', () => {
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  let validator: string;
  let validator2: string;
  let miner: string;
  let miner2: string;
  let dir: string;
  let store: Store;
  let clock: ManualClock;
  const chains: LocalChain[] = [];

  beforeAll(async () => {
    await cryptoWaitReady();
    [validator, validator2, miner, miner2] = ['//V', '//V2', '//M', '//M2'].map((uri) => keyring.addFromUri(uri).address) as [
      string,
      string,
      string,
      string,
    ];
  });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'horde-local-tlock-'));
    store = await openStore({ client: 'sqlite', filename: join(dir, 'chain.sqlite') });
    clock = new ManualClock(GENESIS);
    await LocalChain.init(
      store,
      { blockTimeMs: BLOCK_MS, subnets: [{ netuid: NETUID, tempo: 10, weightsRateLimit: 5, commitRevealVersion: 4 }] },
      clock,
    );
    const admin = await open();
    const coldkey = keyring.addFromUri('//C').address;
    await admin.registerNeuron({ hotkey: validator, coldkey, stake: 1000, validatorPermit: true });
    await admin.registerNeuron({ hotkey: validator2, coldkey, stake: 1000, validatorPermit: true });
    await admin.registerNeuron({ hotkey: miner, coldkey });
    await admin.registerNeuron({ hotkey: miner2, coldkey });
  });

  afterEach(async () => {
    for (const chain of chains.splice(0)) await chain.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(hotkey?: string): Promise<LocalChain> {
    const chain = await LocalChain.open({ store, clock, netuid: NETUID, ...(hotkey ? { hotkey } : {}) });
    chains.push(chain);
    return chain;
  }

  async function toBlock(block: number): Promise<void> {
    const chain = chains[0]!;
    const now = await chain.currentBlock();
    clock.advance((block - now) * BLOCK_MS);
  }

  it('commits a ciphertext for its beacon; nobody sees the weights before the round; the chain reveals them at the predicted block', async () => {
    const chain = await open(validator);
    await toBlock(8);
    const result = await chain.submitWeights(NETUID, [
      { uid: 2, weight: 3 },
      { uid: 3, weight: 1 },
    ]);
    // Block 8 is in epoch 1 (blocks 7–17); the reveal epoch 2 starts at block 18.
    expect(result).toMatchObject({ status: 'committed', mode: 'timelocked_v4', block: 8, revealBlock: 18 });
    const round = (result as { revealRound: number }).revealRound;
    const beacon = await chain.ledger.beaconInfo();
    // The round is the one due at block 18 + 3, rounded down like bittensor-drand.
    expect(round).toBe(Math.floor(((GENESIS - BLOCK_MS + 21 * BLOCK_MS) / 1000 - beacon.genesisTime) / beacon.period));
    expect(await chain.revealPendingWeights(NETUID)).toEqual([]);

    await toBlock(17);
    expect((await chain.weights(NETUID)).get(0)).toBeUndefined();
    expect(await chain.ledger.timelockedCommits(NETUID)).toMatchObject([{ status: 'pending', revealRound: round }]);

    await toBlock(25);
    const records = await chain.ledger.timelockedCommits(NETUID);
    expect(records).toMatchObject([{ hotkey: validator, status: 'revealed', revealRound: round }]);
    // Revealed at the first block of the reveal epoch whose predecessor saw the round's pulse.
    const revealedAt = records[0]!.revealedBlock!;
    expect(revealedAt).toBeGreaterThanOrEqual(18);
    expect(revealedAt).toBeLessThanOrEqual(21);
    expect(roundAt(beacon, (GENESIS - BLOCK_MS + (revealedAt - 1) * BLOCK_MS) / 1000)).toBeGreaterThanOrEqual(round);
    expect((await chain.weights(NETUID)).get(0)).toEqual([
      { uid: 2, weight: 65535 / (65535 + 21845) },
      { uid: 3, weight: 21845 / (65535 + 21845) },
    ]);
    // The revealed weights count in the next epoch's incentive, like set_weights.
    await toBlock(30);
    const graph = await chain.metagraph(NETUID);
    expect(graph.neurons.find((n) => n.uid === 2)!.incentive).toBeGreaterThan(graph.neurons.find((n) => n.uid === 3)!.incentive);
  });

  it('has one beacon per chain, with quicknet’s period and round arithmetic', async () => {
    const chain = await open(validator);
    const beacon = await chain.ledger.beaconInfo();
    expect(beacon.period).toBe(3);
    expect(beacon.publicKey).toMatch(/^[0-9a-f]{192}$/);
    const other = await open(validator2);
    expect(await other.ledger.beaconInfo()).toEqual(beacon); // one beacon per chain, every process
    // Round 1 is due at the chain's genesis, like quicknet's round 1 at its genesis.
    expect(roundAt(beacon, GENESIS / 1000)).toBe(1);
  });

  it('drops a copied ciphertext (hotkey mismatch), a wrong version and a round that never comes', async () => {
    const honest = await open(validator);
    const copier = await open(validator2);
    await toBlock(8);
    await honest.submitWeights(NETUID, [{ uid: 2, weight: 1 }]);
    const beacon = await honest.ledger.beaconInfo();
    const [record] = await honest.ledger.timelockedCommits(NETUID);
    // validator2 replays a ciphertext of its own making that names validator (as a copy would).
    const payload = encodeWeightsTlockPayload({ hotkey: validator, uids: [3], values: [65535], versionKey: 0 });
    await copier.ledger.commitTimelockedWeights(
      validator2,
      NETUID,
      timelockEncrypt(beacon, record!.revealRound, payload),
      record!.revealRound,
      4,
    );
    await expect(copier.ledger.commitTimelockedWeights(validator2, NETUID, new Uint8Array(10), 5, 3)).rejects.toMatchObject({
      code: 'IncorrectCommitRevealVersion',
    });
    // A round far past the reveal epoch: never on chain in time.
    await toBlock(14);
    const late = encodeWeightsTlockPayload({ hotkey: validator2, uids: [3], values: [65535], versionKey: 0 });
    await copier.ledger.commitTimelockedWeights(
      validator2,
      NETUID,
      timelockEncrypt(beacon, record!.revealRound + 1000, late),
      record!.revealRound + 1000,
      4,
    );

    await toBlock(30);
    const records = await honest.ledger.timelockedCommits(NETUID);
    expect(records.map((r) => [r.hotkey, r.status])).toEqual([
      [validator, 'revealed'],
      [validator2, 'dropped'],
      [validator2, 'dropped'],
    ]);
    expect(records[1]!.reason).toMatch(/hotkey mismatch/);
    expect(records[2]!.reason).toMatch(/expired/);
    expect((await honest.weights(NETUID)).get(1)).toBeUndefined();
  });

  it('refuses bad timelocked commits with the pallet’s errors', async () => {
    const chain = await open(validator);
    await toBlock(8);
    await chain.submitWeights(NETUID, [{ uid: 2, weight: 1 }]);
    const error = await chain.ledger.commitTimelockedWeights(validator, NETUID, new Uint8Array(10), 5, 4).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChainError);
    expect((error as ChainError).code).toBe('CommittingWeightsTooFast');
    await chain.setHyperparameters(NETUID, { commitRevealEnabled: false });
    await expect(chain.ledger.commitTimelockedWeights(validator, NETUID, new Uint8Array(10), 5, 4)).rejects.toMatchObject({
      code: 'CommitRevealDisabled',
    });
  });
});
