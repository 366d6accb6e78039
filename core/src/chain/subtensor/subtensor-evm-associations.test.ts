/**
 * SubtensorChain's side of collateral: `AssociatedEvmAddress` read as uid → H160 and
 * `associate_evm_key` submitted with the signature a miner's EVM key made, against the websocket
 * JSON-RPC node with subtensor's metadata (the call and storage shapes come from the fixture).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePrivateKey } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAssociation } from '../../collateral/association.js';
import type { Store } from '../../contracts/index.js';
import { loadHotkey, type Hotkey } from '../../keys/index.js';
import { openStore } from '../../store/index.js';
import { FakeSubtensor } from './__tests__/fake-subtensor.js';
import { SubtensorChain } from './subtensor-chain.js';

const NETUID = 12;
let node: FakeSubtensor;
let store: Store;
let dir: string;
let bob: Hotkey;
let chain: SubtensorChain;

beforeAll(async () => {
  bob = await loadHotkey({ uri: '//Bob' });
  node = await FakeSubtensor.start({ startBlock: 100 });
  dir = mkdtempSync(join(tmpdir(), 'horde-subtensor-evm-'));
  store = await openStore({ client: 'sqlite', filename: join(dir, 'horde.sqlite') });
  chain = await SubtensorChain.connect({ network: node.url, hotkey: bob, store, submitTimeoutMs: 10_000 });
});

afterAll(async () => {
  await chain?.close();
  await store?.close();
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SubtensorChain EVM key associations', () => {
  it('reads AssociatedEvmAddress of the subnet as uid → H160 (other subnets left out)', async () => {
    expect((await chain.associatedEvmAddresses(NETUID)).size).toBe(0);
    const a = '0x' + '11'.repeat(20);
    const b = '0x' + 'ab'.repeat(20);
    node.setStorage('subtensorModule', 'associatedEvmAddress', [NETUID, 1], [a, 90]);
    node.setStorage('subtensorModule', 'associatedEvmAddress', [NETUID, 4], [b, 95]);
    node.setStorage('subtensorModule', 'associatedEvmAddress', [NETUID + 1, 2], [a, 95]);
    const read = await chain.associatedEvmAddresses(NETUID);
    expect(new Map([...read].map(([uid, address]) => [uid, address.toLowerCase()]))).toEqual(
      new Map([
        [1, a],
        [4, b],
      ]),
    );
  });

  it("submits associate_evm_key signed by the hotkey, with the EVM key's signature", async () => {
    const signed = await signAssociation(generatePrivateKey(), bob.publicKey, 100);
    await chain.associateEvmKey(NETUID, signed.evmAddress, 100, signed.signature);
    expect(node.extrinsics.at(-1)).toMatchObject({
      section: 'subtensorModule',
      method: 'associateEvmKey',
      signer: bob.ss58,
      args: { netuid: NETUID, evmKey: signed.evmAddress.toLowerCase(), blockNumber: 100, signature: signed.signature },
    });
  });
});
