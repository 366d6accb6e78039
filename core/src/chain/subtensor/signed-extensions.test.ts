import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { compactToU8a, hexToU8a, stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { blake2AsU8a, cryptoWaitReady, signatureVerify } from '@polkadot/util-crypto';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';

import { loadHotkey, type Hotkey } from '../../keys/index.js';
import { openStore } from '../../store/index.js';
import { ChainError } from '../errors.js';
import { FakeSubtensor, fixtureRegistry } from './__tests__/fake-subtensor.js';
import { SUBTENSOR_SIGNED_EXTENSIONS, SubtensorChain } from './subtensor-chain.js';
import { misdeclaredExtensions, transactionExtensionLayouts } from './transaction-extensions.js';

const finney = JSON.parse(readFileSync(new URL('../timelock/__fixtures__/finney-timelocked-commit.json', import.meta.url), 'utf8')) as {
  signedExtensions: string[];
  specVersion: number;
  genesisHash: string;
  call: string;
  signed: {
    blockHash: string;
    era: string;
    nonce: string;
    tip: string;
    transactionVersion: number;
    signerPublicKey: string;
    signature: string;
  };
};

describe("finney's signed extensions (SudoTransactionExtension, CheckShieldedTxValidity)", () => {
  beforeAll(async () => {
    await cryptoWaitReady();
  });

  it('with horde’s declarations, the signing payload of a real finney commit_timelocked_mechanism_weights verifies its sr25519 signature', () => {
    const { registry } = fixtureRegistry();
    registry.setSignedExtensions(finney.signedExtensions, SUBTENSOR_SIGNED_EXTENSIONS);
    const payload = registry.createType(
      'ExtrinsicPayload',
      {
        method: finney.call,
        era: finney.signed.era,
        nonce: finney.signed.nonce,
        tip: finney.signed.tip,
        specVersion: finney.specVersion,
        transactionVersion: finney.signed.transactionVersion,
        genesisHash: finney.genesisHash,
        blockHash: finney.signed.blockHash,
        mode: 0,
      },
      { version: 4 },
    );
    const bytes = payload.toU8a({ method: true });
    const message = bytes.length > 256 ? blake2AsU8a(bytes, 256) : bytes;
    expect(signatureVerify(message, hexToU8a(finney.signed.signature), finney.signed.signerPublicKey).isValid).toBe(true);
    // Declaring a data-carrying extension there would shift the bytes and break the signature.
    const wrong = fixtureRegistry().registry;
    wrong.setSignedExtensions(finney.signedExtensions, {
      ...SUBTENSOR_SIGNED_EXTENSIONS,
      CheckShieldedTxValidity: { extrinsic: {}, payload: { shielded: 'u8' } },
    });
    const shifted = wrong
      .createType('ExtrinsicPayload', { ...payload.toJSON(), method: finney.call, shielded: 0 }, { version: 4 })
      .toU8a({ method: true });
    const shiftedMessage = shifted.length > 256 ? blake2AsU8a(shifted, 256) : shifted;
    expect(signatureVerify(shiftedMessage, hexToU8a(finney.signed.signature), finney.signed.signerPublicKey).isValid).toBe(false);
  });
});

/** One JSON-RPC request on a fresh websocket, answered with the node's `result` or `error`. */
async function rawRpc(
  url: string,
  method: string,
  params: unknown[],
): Promise<{ result?: unknown; error?: { code: number; message: string; data?: string } }> {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  try {
    return await new Promise((resolve) => {
      socket.once('message', (data) => resolve(JSON.parse(String(data))));
      socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }));
    });
  } finally {
    socket.close();
  }
}

describe('the fake node checks signatures the way a node does (so signing is tested, not assumed)', () => {
  let node: FakeSubtensor;
  let alice: Hotkey;
  const apis: ApiPromise[] = [];

  beforeAll(async () => {
    alice = await loadHotkey({ uri: '//Alice' });
  });
  beforeEach(async () => {
    node = await FakeSubtensor.start({ startBlock: 20 });
  });
  afterEach(async () => {
    for (const api of apis.splice(0)) await api.disconnect();
    await node.close();
  });

  async function connect(
    signedExtensions: Record<string, { extrinsic: Record<string, string>; payload: Record<string, string> }>,
  ): Promise<ApiPromise> {
    const api = await ApiPromise.create({ provider: new WsProvider(node.url), signedExtensions, noInitWarn: true });
    apis.push(api);
    return api;
  }

  async function signedRemark(api: ApiPromise): Promise<string> {
    const tx = await api.tx['system']!['remark']!('0x686f726465').signAsync(alice.pair, { nonce: 0 });
    return tx.toHex();
  }

  it('accepts an extrinsic signed with horde’s declarations, and refuses it with one signature byte changed', async () => {
    const api = await connect(SUBTENSOR_SIGNED_EXTENSIONS);
    const hex = await signedRemark(api);
    const bytes = hexToU8a(hex);
    const signature = api.createType('Extrinsic', hex).signature.toU8a();
    const signatureStart = Buffer.from(bytes).indexOf(Buffer.from(signature));
    expect(signatureStart).toBeGreaterThan(0);
    const tampered = bytes.slice();
    tampered[signatureStart + 10]! ^= 0x01;
    const refused = await rawRpc(node.url, 'author_submitAndWatchExtrinsic', [u8aToHex(tampered)]);
    expect(refused.error).toMatchObject({ code: 1010, message: 'Invalid Transaction', data: 'Transaction has a bad signature' });
    expect(node.extrinsics).toHaveLength(0);

    const accepted = await rawRpc(node.url, 'author_submitAndWatchExtrinsic', [hex]);
    expect(accepted.error).toBeUndefined();
    expect(node.extrinsics.map((x) => `${x.section}.${x.method}:${x.signer}`)).toEqual([`system.remark:${alice.ss58}`]);
  });

  it('refuses an extrinsic whose client declared one of subtensor’s empty extensions as carrying data', async () => {
    // The node reads the extensions' layout from the metadata, so the extra byte does not verify.
    const api = await connect({ ...SUBTENSOR_SIGNED_EXTENSIONS, DrandPriority: { extrinsic: { drandPriority: 'u8' }, payload: {} } });
    const hex = await signedRemark(api);
    const refused = await rawRpc(node.url, 'author_submitAndWatchExtrinsic', [hex]);
    expect([1001, 1010]).toContain(refused.error?.code);
    expect(node.extrinsics).toHaveLength(0);
  });

  it('refuses an extrinsic signed for another chain (another genesis hash)', async () => {
    const api = await connect(SUBTENSOR_SIGNED_EXTENSIONS);
    const otherGenesis = `0x${'11'.repeat(32)}`;
    const tx = api.tx['system']!['remark']!('0x00').sign(alice.pair, {
      nonce: 0,
      genesisHash: otherGenesis,
      blockHash: otherGenesis,
      runtimeVersion: api.runtimeVersion,
      signedExtensions: api.registry.signedExtensions,
    });
    const refused = await rawRpc(node.url, 'author_submitAndWatchExtrinsic', [tx.toHex()]);
    expect(refused.error).toMatchObject({ code: 1010, data: 'Transaction has a bad signature' });
  });
});

/** The fixture metadata with `DrandPriority` made to carry what `CheckNonce` carries (a Compact<u32>). */
function metadataWithDataInDrandPriority(): string {
  const { metadata, atVersionHex } = fixtureRegistry();
  // Each entry is encoded as identifier, type id, implicit type id (V15 and V16 alike).
  const extensions = metadata.version >= 16 ? metadata.asV16.extrinsic.transactionExtensions : metadata.asV15.extrinsic.signedExtensions;
  const drand = extensions.find((e) => e.identifier.toString() === 'DrandPriority')!.type.toNumber();
  const nonce = extensions.find((e) => e.identifier.toString() === 'CheckNonce')!.type.toNumber();
  const name = stringToU8a('DrandPriority');
  const needle = u8aConcat(compactToU8a(name.length), name, compactToU8a(drand));
  const bytes = hexToU8a(atVersionHex);
  const at = Buffer.from(bytes).indexOf(Buffer.from(needle));
  const replacement = compactToU8a(nonce);
  if (at < 0 || replacement.length !== compactToU8a(drand).length)
    throw new TypeError('the fixture does not have the expected DrandPriority entry');
  bytes.set(replacement, at + needle.length - replacement.length);
  return u8aToHex(bytes);
}

describe('transaction extensions read from the metadata', () => {
  // The list is the fixture's (spec 331's, V15); a newer fixture adds SudoTransactionExtension and
  // CheckShieldedTxValidity after ChargeTransactionPayment.
  it('the fixture’s extensions are laid out from its type ids; subtensor’s own carry nothing, so horde’s declarations fit', () => {
    const { registry, metadata } = fixtureRegistry();
    const layouts = transactionExtensionLayouts(registry, metadata);
    expect(layouts.map((l) => l.name)).toEqual([
      'CheckNonZeroSender',
      'CheckSpecVersion',
      'CheckTxVersion',
      'CheckGenesis',
      'CheckMortality',
      'CheckNonce',
      'CheckWeight',
      'ChargeTransactionPayment',
      'SubtensorTransactionExtension',
      'DrandPriority',
      'CheckMetadataHash',
    ]);
    expect(layouts.find((l) => l.name === 'CheckNonce')).toEqual({ name: 'CheckNonce', explicit: 'Compact<u32>', implicit: 'Null' });
    expect(layouts.find((l) => l.name === 'CheckSpecVersion')).toEqual({ name: 'CheckSpecVersion', explicit: 'Null', implicit: 'u32' });
    expect(misdeclaredExtensions(registry, metadata, Object.keys(SUBTENSOR_SIGNED_EXTENSIONS))).toEqual([]);
  });

  it('names an extension of subtensor’s that a runtime has given data', () => {
    const { registry, metadata } = fixtureRegistry(metadataWithDataInDrandPriority());
    expect(misdeclaredExtensions(registry, metadata, Object.keys(SUBTENSOR_SIGNED_EXTENSIONS))).toEqual([
      { name: 'DrandPriority', explicit: 'Compact<u32>', implicit: 'Null' },
    ]);
  });

  it('SubtensorChain still reads, but refuses every write with UnsupportedTransactionExtension and sends nothing', async () => {
    const node = await FakeSubtensor.start({ startBlock: 20, metadataHex: metadataWithDataInDrandPriority() });
    const dir = mkdtempSync(join(tmpdir(), 'horde-extensions-'));
    const store = await openStore({ client: 'sqlite', filename: join(dir, 'horde.sqlite') });
    const hotkey = await loadHotkey({ uri: '//Bob' });
    const chain = await SubtensorChain.connect({ network: node.url, hotkey, store, submitTimeoutMs: 10_000 });
    try {
      expect(await chain.currentBlock()).toBe(20);
      const error = await chain.setCommitment(12, '<M:C4;L2>').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ChainError);
      expect((error as ChainError).code).toBe('UnsupportedTransactionExtension');
      expect((error as Error).message).toContain('DrandPriority (adds Compact<u32>');
      expect(node.extrinsics).toHaveLength(0);
    } finally {
      await chain.close();
      await store.close();
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
