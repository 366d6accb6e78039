/**
 * Hotkey → EVM address: a miner proves it holds an EVM key by signing subtensor's association
 * message, the LocalChain checks it as `associate_evm_key` does and serves `AssociatedEvmAddress`.
 * A forged signature, a signature for another hotkey or block, or a uid taken over by another
 * hotkey never yields an address (and so never someone else's collateral).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keccak256, toHex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalChain } from '../chain/local/local-chain.js';
import type { Store } from '../contracts/index.js';
import { loadHotkey, type Hotkey } from '../keys/index.js';
import { openStore } from '../store/index.js';
import { associationMessage, signAssociation, verifyAssociation } from './association.js';

const NETUID = 7;
const dir = mkdtempSync(join(tmpdir(), 'horde-evm-assoc-'));
let store: Store;
let admin: LocalChain;
let miner: Hotkey;
let other: Hotkey;

beforeAll(async () => {
  store = await openStore({ client: 'sqlite', filename: join(dir, 'chain.sqlite') });
  await LocalChain.init(store, { blockTimeMs: 100, subnets: [{ netuid: NETUID }] });
  admin = await LocalChain.open({ store });
  [miner, other] = (await Promise.all(['//AssocMiner', '//AssocOther'].map((uri) => loadHotkey({ uri })))) as [Hotkey, Hotkey];
  await admin.ledger.registerNeuron({ netuid: NETUID, hotkey: miner.ss58, coldkey: miner.ss58 });
  await admin.ledger.registerNeuron({ netuid: NETUID, hotkey: other.ss58, coldkey: other.ss58 });
});

afterAll(async () => {
  await admin?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('EVM key association', () => {
  it("signs subtensor's message: hotkey public key ++ keccak256(block as little-endian u64), EIP-191", async () => {
    const message = associationMessage(miner.publicKey, 0x0102);
    expect(message.length).toBe(64);
    expect(toHex(message.slice(0, 32))).toBe(toHex(miner.publicKey));
    expect(toHex(message.slice(32))).toBe(keccak256(new Uint8Array([0x02, 0x01, 0, 0, 0, 0, 0, 0])));
    const key = generatePrivateKey();
    const { evmAddress, signature } = await signAssociation(key, miner.publicKey, 0x0102);
    expect(evmAddress).toBe(privateKeyToAccount(key).address);
    expect(await verifyAssociation(evmAddress, signature, miner.publicKey, 0x0102)).toBe(true);
    expect(await verifyAssociation(evmAddress, signature, miner.publicKey, 0x0103)).toBe(false);
    expect(await verifyAssociation(evmAddress, signature, other.publicKey, 0x0102)).toBe(false);
  });

  it('associates on the LocalChain only with a valid signature, and forgets a uid taken over by another hotkey', async () => {
    const chain = await LocalChain.open({ store, hotkey: miner.ss58 });
    try {
      const block = await chain.currentBlock();
      const key = generatePrivateKey();
      const signed = await signAssociation(key, miner.publicKey, block);
      // Signed for the other hotkey: refused.
      const forOther = await signAssociation(key, other.publicKey, block);
      await expect(chain.associateEvmKey(NETUID, forOther.evmAddress, block, forOther.signature)).rejects.toMatchObject({
        code: 'InvalidIdentity',
      });
      // Claiming someone else's EVM address with one's own signature: refused.
      const stranger = privateKeyToAccount(generatePrivateKey()).address;
      await expect(chain.associateEvmKey(NETUID, stranger, block, signed.signature)).rejects.toMatchObject({ code: 'InvalidIdentity' });
      // A block in the future: refused.
      const future = await signAssociation(key, miner.publicKey, block + 10_000);
      await expect(chain.associateEvmKey(NETUID, future.evmAddress, block + 10_000, future.signature)).rejects.toMatchObject({
        code: 'InvalidIdentity',
      });
      expect((await chain.associatedEvmAddresses(NETUID)).size).toBe(0);

      await chain.associateEvmKey(NETUID, signed.evmAddress, block, signed.signature);
      const uid = (await chain.metagraph(NETUID)).neurons.find((n) => n.hotkey === miner.ss58)!.uid;
      expect(await chain.associatedEvmAddresses(NETUID)).toEqual(new Map([[uid, signed.evmAddress]]));

      // A new key replaces the old one.
      const next = await signAssociation(generatePrivateKey(), miner.publicKey, block);
      await chain.associateEvmKey(NETUID, next.evmAddress, block, next.signature);
      expect((await chain.associatedEvmAddresses(NETUID)).get(uid)).toBe(next.evmAddress);

      // The uid goes to another hotkey (deregistration and a new registration): no address for it.
      await store
        .db('chain_local_neurons')
        .where({ netuid: NETUID, uid })
        .update({ hotkey: '5HpG9w8EBLe5XCrbczpwq5TSXvedjrBGCwqxK1iQ7qUsSWFc' });
      expect((await chain.associatedEvmAddresses(NETUID)).has(uid)).toBe(false);
    } finally {
      await chain.close();
    }
  });

  it('refuses a hotkey that is not registered on the subnet', async () => {
    const outsider = await loadHotkey({ uri: '//AssocOutsider' });
    const chain = await LocalChain.open({ store, hotkey: outsider.ss58 });
    try {
      const block = await chain.currentBlock();
      const signed = await signAssociation(generatePrivateKey(), outsider.publicKey, block);
      await expect(chain.associateEvmKey(NETUID, signed.evmAddress, block, signed.signature)).rejects.toMatchObject({
        code: 'HotKeyNotRegisteredInNetwork',
      });
    } finally {
      await chain.close();
    }
  });
});
