/**
 * The slasher on a real local EVM node and a LocalChain: a miner with less collateral than the
 * slash amount, a miner without an associated key, a missing key file and a key that is not the
 * trustee's fail at once with their codes (nothing is taken); an RPC that is away is tried
 * `attempts` times and then reported.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEvmNode, type EvmNode } from '../../../test/support/evm-node.js';
import { LocalChain } from '../chain/local/local-chain.js';
import type { Store } from '../contracts/index.js';
import { loadHotkey, type Hotkey } from '../keys/index.js';
import { silentLogger } from '../logging/index.js';
import { SystemClock } from '../time/clock.js';
import { openStore } from '../store/index.js';
import { signAssociation } from './association.js';
import { CollateralBook } from './book.js';
import { CollateralContract, deployCollateralContract } from './client.js';
import { CollateralError } from './errors.js';
import { CollateralSlasher, type SlasherSettings } from './slasher.js';

const NETUID = 3;
const TAO = 10n ** 18n;
const dir = mkdtempSync(join(tmpdir(), 'horde-slasher-'));
let evm: EvmNode;
let store: Store;
let chain: LocalChain;
let contract: CollateralContract;
let miner: Hotkey;
let unassociated: Hotkey;
const trusteeKey = generatePrivateKey();
const minerKey = generatePrivateKey();
let trusteeFile: string;

function slasherWith(settings: Partial<SlasherSettings>, target = contract): CollateralSlasher {
  const book = new CollateralBook({ chain, netuid: NETUID, contract: target, clock: new SystemClock(), logger: silentLogger() });
  return new CollateralSlasher(
    target,
    book,
    {
      amountWei: TAO / 100n,
      reason: 'job {jobUuid} cheated on {minerHotkey}',
      evmKeyFile: trusteeFile,
      attempts: 3,
      backoffMs: () => 10,
      ...settings,
    },
    silentLogger(),
  );
}

async function failure(promise: Promise<unknown>): Promise<CollateralError> {
  const error = await promise.then(
    () => null,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(CollateralError);
  return error as CollateralError;
}

beforeAll(async () => {
  evm = await startEvmNode();
  await evm.fund(privateKeyToAccount(trusteeKey).address, TAO);
  await evm.fund(privateKeyToAccount(minerKey).address, TAO);
  const deployed = await deployCollateralContract({ rpcUrl: evm.url, chainId: evm.chainId }, trusteeKey, {
    netuid: NETUID,
    trustee: privateKeyToAccount(trusteeKey).address,
    minCollateralIncreaseWei: 1n,
    decisionTimeoutSeconds: 60,
  });
  contract = new CollateralContract({ rpcUrl: evm.url, chainId: evm.chainId, contractAddress: deployed.address });
  trusteeFile = join(dir, 'trustee.json');
  writeFileSync(trusteeFile, JSON.stringify({ private_key: trusteeKey }));

  store = await openStore({ client: 'sqlite', filename: join(dir, 'chain.sqlite') });
  await LocalChain.init(store, { blockTimeMs: 100, subnets: [{ netuid: NETUID }] });
  chain = await LocalChain.open({ store, netuid: NETUID });
  [miner, unassociated] = (await Promise.all(['//SlashMiner', '//SlashNoKey'].map((uri) => loadHotkey({ uri })))) as [Hotkey, Hotkey];
  for (const hotkey of [miner, unassociated])
    await chain.ledger.registerNeuron({ netuid: NETUID, hotkey: hotkey.ss58, coldkey: hotkey.ss58 });
  const minerChain = await LocalChain.open({ store, hotkey: miner.ss58, netuid: NETUID });
  const block = await minerChain.currentBlock();
  const signed = await signAssociation(minerKey, miner.publicKey, block);
  await minerChain.associateEvmKey(NETUID, signed.evmAddress, block, signed.signature);
  await minerChain.close();
  await contract.deposit(minerKey, TAO / 200n); // less than the slash amount (0.01 TAO)
}, 120_000);

afterAll(async () => {
  await chain?.close();
  await store?.close();
  await evm?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('collateral slasher', () => {
  it('refuses at once, taking nothing, when the miner holds less than the slash amount', async () => {
    const error = await failure(slasherWith({}).slash('j1', miner.ss58));
    expect(error).toMatchObject({ code: 'HORDE_COLLATERAL_REVERTED', revert: 'InsufficientAmount' });
    expect(await contract.collateralOf(privateKeyToAccount(minerKey).address)).toBe(TAO / 200n);
  });

  it('slashes with the reason filled in when the amount fits', async () => {
    const done = await slasherWith({ amountWei: TAO / 1000n }).slash('j2', miner.ss58);
    expect(done).toMatchObject({
      amountWei: TAO / 1000n,
      reason: `job j2 cheated on ${miner.ss58}`,
      attempts: 1,
      evmAddress: privateKeyToAccount(minerKey).address,
    });
    expect(await contract.collateralOf(privateKeyToAccount(minerKey).address)).toBe(TAO / 200n - TAO / 1000n);
  });

  it('fails with a code for a miner without an EVM key, a missing key file, and a key that is not the trustee', async () => {
    expect(await failure(slasherWith({}).slash('j3', unassociated.ss58))).toMatchObject({ code: 'HORDE_COLLATERAL_NO_EVM_ADDRESS' });
    expect(await failure(slasherWith({ evmKeyFile: join(dir, 'missing.json') }).slash('j4', miner.ss58))).toMatchObject({
      code: 'HORDE_COLLATERAL_BAD_INPUT',
    });
    const stranger = join(dir, 'stranger.json');
    const strangerKey = generatePrivateKey();
    await evm.fund(privateKeyToAccount(strangerKey).address, TAO);
    writeFileSync(stranger, JSON.stringify({ private_key: strangerKey }));
    expect(await failure(slasherWith({ evmKeyFile: stranger, amountWei: 1n }).slash('j5', miner.ss58))).toMatchObject({
      code: 'HORDE_COLLATERAL_REVERTED',
      revert: 'NotTrustee',
    });
    // …which the validator checks at start, before anyone cheats.
    expect(await failure(slasherWith({ evmKeyFile: stranger }).verifyTrustee())).toMatchObject({ code: 'HORDE_COLLATERAL_NOT_TRUSTEE' });
    expect(await slasherWith({}).verifyTrustee()).toBe(privateKeyToAccount(trusteeKey).address);
  });

  it('finds a slash that landed unrecorded instead of slashing again, and sends concurrent slashes one after another', async () => {
    const address = privateKeyToAccount(minerKey).address;
    const slasher = slasherWith({ amountWei: 1000n });
    const first = await slasher.slash('j7', miner.ss58);
    const before = await contract.collateralOf(address);
    // As after a crash between the transaction and its record: the recheck finds it on chain.
    const again = await slasher.slash('j7', miner.ss58, { recheck: true });
    expect(again).toMatchObject({ tx: { hash: first.tx.hash }, attempts: 0 });
    expect(await contract.collateralOf(address)).toBe(before);
    // Two cheated jobs at once: both land (no nonce race on the trustee's key).
    const [a, b] = await Promise.all([slasher.slash('j8', miner.ss58), slasher.slash('j9', miner.ss58)]);
    expect(a.tx.hash).not.toBe(b.tx.hash);
    expect(await contract.collateralOf(address)).toBe(before - 2000n);
  });

  it('slashes the address routing relied on, even when the miner re-associates a fresh key after cheating', async () => {
    const book = new CollateralBook({ chain, netuid: NETUID, contract, clock: new SystemClock(), logger: silentLogger() });
    await book.refresh();
    const slasher = new CollateralSlasher(
      contract,
      book,
      { amountWei: 1000n, reason: 'job {jobUuid} cheated', evmKeyFile: trusteeFile, attempts: 1 },
      silentLogger(),
    );
    const minerChain = await LocalChain.open({ store, hotkey: miner.ss58, netuid: NETUID });
    const block = await minerChain.currentBlock();
    const fresh = await signAssociation(generatePrivateKey(), miner.publicKey, block);
    await minerChain.associateEvmKey(NETUID, fresh.evmAddress, block, fresh.signature);
    const original = privateKeyToAccount(minerKey).address;
    const before = await contract.collateralOf(original);
    const done = await slasher.slash('j10', miner.ss58);
    expect(done.evmAddress).toBe(original);
    expect(await contract.collateralOf(original)).toBe(before - 1000n);
    // Back to the original key for the tests below.
    const back = await signAssociation(minerKey, miner.publicKey, block);
    await minerChain.associateEvmKey(NETUID, back.evmAddress, block, back.signature);
    await minerChain.close();
  });

  it('counts an EVM address associated with two hotkeys for neither of them', async () => {
    const book = new CollateralBook({ chain, netuid: NETUID, contract, clock: new SystemClock(), logger: silentLogger() });
    const alone = await book.refresh();
    expect(alone.miners.get(miner.ss58)?.wei).toBeGreaterThan(0n);
    const twin = await loadHotkey({ uri: '//SlashTwin' });
    await chain.ledger.registerNeuron({ netuid: NETUID, hotkey: twin.ss58, coldkey: twin.ss58 });
    const twinChain = await LocalChain.open({ store, hotkey: twin.ss58, netuid: NETUID });
    const block = await twinChain.currentBlock();
    const signed = await signAssociation(minerKey, twin.publicKey, block);
    await twinChain.associateEvmKey(NETUID, signed.evmAddress, block, signed.signature);
    await twinChain.close();
    const shared = await book.refresh();
    expect(shared.miners.get(miner.ss58)).toMatchObject({ evmAddress: signed.evmAddress, wei: 0n });
    expect(shared.miners.get(twin.ss58)).toMatchObject({ evmAddress: signed.evmAddress, wei: 0n });
  });

  it('tries an RPC that is away `attempts` times, then reports it', async () => {
    const away = new CollateralContract({
      rpcUrl: 'http://127.0.0.1:9',
      chainId: evm.chainId,
      contractAddress: contract.address,
      timeoutMs: 1_000,
    });
    let waits = 0;
    const error = await failure(slasherWith({ backoffMs: () => ((waits += 1), 10) }, away).slash('j6', miner.ss58));
    expect(error.code).toBe('HORDE_COLLATERAL_RPC_UNREACHABLE');
    expect(waits).toBe(2); // 3 attempts, 2 waits between them
  });
});
