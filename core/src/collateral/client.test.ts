/**
 * The collateral client against a real local EVM node (Hardhat 2's `hardhat node`, started from
 * node_modules by test/support/evm-node.ts): the contract deployed from the reviewed artifact, a
 * miner's deposit read back, the trustee's slash with its reason, and each way a misconfigured or
 * absent node fails with its own code instead of reading zeros.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEvmNode, type EvmNode } from '../../../test/support/evm-node.js';
import { CollateralContract, deployCollateralContract, reasonChecksum } from './client.js';
import { CollateralError } from './errors.js';

const TAO = 10n ** 18n;
const MIN_INCREASE = TAO / 1000n; // 0.001 TAO

let node: EvmNode;
let contract: CollateralContract;
const trusteeKey = generatePrivateKey();
const minerKey = generatePrivateKey();
const miner = privateKeyToAccount(minerKey).address;

async function expectCode(promise: Promise<unknown>, code: string, revert?: string): Promise<CollateralError> {
  const error = await promise.then(
    () => null,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(CollateralError);
  expect((error as CollateralError).code).toBe(code);
  if (revert) expect((error as CollateralError).revert).toBe(revert);
  return error as CollateralError;
}

beforeAll(async () => {
  node = await startEvmNode();
  await node.fund(privateKeyToAccount(trusteeKey).address, 10n * TAO);
  await node.fund(miner, 10n * TAO);
  const deployed = await deployCollateralContract({ rpcUrl: node.url, chainId: node.chainId }, trusteeKey, {
    netuid: 12,
    trustee: privateKeyToAccount(trusteeKey).address,
    minCollateralIncreaseWei: MIN_INCREASE,
    decisionTimeoutSeconds: 3600,
  });
  contract = new CollateralContract({ rpcUrl: node.url, chainId: node.chainId, contractAddress: deployed.address });
}, 120_000);

afterAll(async () => {
  await node?.close();
});

describe('collateral contract client', () => {
  it('reads what a miner deposited, and refuses a deposit below the minimum increase', async () => {
    expect(await contract.trustee()).toBe(privateKeyToAccount(trusteeKey).address);
    expect(await contract.minCollateralIncrease()).toBe(MIN_INCREASE);
    expect(await contract.collateralOf(miner)).toBe(0n);
    const tx = await contract.deposit(minerKey, (2n * TAO) / 100n);
    expect(tx.hash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await contract.collateralOf(miner)).toBe((2n * TAO) / 100n);
    await expectCode(contract.deposit(minerKey, MIN_INCREASE - 1n), 'HORDE_COLLATERAL_REVERTED', 'InsufficientAmount');
    expect(await contract.collateralOf(miner)).toBe((2n * TAO) / 100n);
  });

  it('lets only the trustee slash, burns the amount and records the reason', async () => {
    const before = await contract.collateralOf(miner);
    // The miner cannot slash itself (or anyone): only the trustee can.
    await expectCode(contract.slash(minerKey, miner, MIN_INCREASE, 'job x cheated'), 'HORDE_COLLATERAL_REVERTED', 'NotTrustee');
    // More than the miner holds is refused, and nothing is taken.
    await expectCode(contract.slash(trusteeKey, miner, before + 1n, 'job x cheated'), 'HORDE_COLLATERAL_REVERTED', 'InsufficientAmount');
    const amount = (5n * TAO) / 1000n;
    await contract.slash(trusteeKey, miner, amount, 'job 5d3c cheated');
    expect(await contract.collateralOf(miner)).toBe(before - amount);
    const slashes = await contract.slashes(miner);
    expect(slashes).toEqual([expect.objectContaining({ amountWei: amount, url: 'job 5d3c cheated', checksum: `0x${'00'.repeat(16)}` })]);
  });

  it('stores the MD5 of an http(s) reason URL, and refuses to slash when it cannot be fetched', async () => {
    const server = createServer((req, res) => (req.url === '/cheat.json' ? res.end('{"job":"1"}') : res.writeHead(404).end()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const md5 = `0x${createHash('md5').update('{"job":"1"}').digest('hex')}`;
      expect(await reasonChecksum(`${base}/cheat.json`)).toBe(md5);
      await contract.slash(trusteeKey, miner, MIN_INCREASE, `${base}/cheat.json`);
      expect((await contract.slashes(miner)).at(-1)).toMatchObject({ url: `${base}/cheat.json`, checksum: md5 });
      const before = await contract.collateralOf(miner);
      await expectCode(contract.slash(trusteeKey, miner, MIN_INCREASE, `${base}/missing`), 'HORDE_COLLATERAL_REASON_URL');
      expect(await contract.collateralOf(miner)).toBe(before);
    } finally {
      server.close();
    }
  });

  it('lets a miner reclaim after the decision timeout, and the trustee deny a reclaim before it', async () => {
    const before = await contract.collateralOf(miner);
    const first = await contract.reclaim(minerKey, MIN_INCREASE, 'leaving');
    // Too early: the trustee still has time to deny.
    await expectCode(contract.finalizeReclaim(minerKey, first.reclaimId), 'HORDE_COLLATERAL_REVERTED', 'BeforeDenyTimeout');
    // Only the trustee denies.
    const second = await contract.reclaim(minerKey, MIN_INCREASE, 'leaving too');
    await expectCode(contract.denyReclaim(minerKey, second.reclaimId, 'no'), 'HORDE_COLLATERAL_REVERTED', 'NotTrustee');
    await contract.denyReclaim(trusteeKey, second.reclaimId, 'job 9 under review');
    await expectCode(contract.finalizeReclaim(minerKey, second.reclaimId), 'HORDE_COLLATERAL_REVERTED', 'ReclaimNotFound');
    // Pending reclaims still count as collateral until finalized (and can still be slashed).
    expect(await contract.collateralOf(miner)).toBe(before);
    await node.advance(3601);
    const balance = await contract.balanceOf(miner);
    await contract.finalizeReclaim(trusteeKey, first.reclaimId); // anyone may finalize; the miner is paid
    expect(await contract.collateralOf(miner)).toBe(before - MIN_INCREASE);
    expect(await contract.balanceOf(miner)).toBe(balance + MIN_INCREASE);
    // More than what is left is refused.
    await expectCode(contract.reclaim(minerKey, before, 'all of it and more'), 'HORDE_COLLATERAL_REVERTED', 'ReclaimAmountTooLarge');
  });

  it('fails with its own code on a wrong chain id, a missing contract, an RPC that is down and bad input', async () => {
    const wrongChain = new CollateralContract({ rpcUrl: node.url, chainId: 964, contractAddress: contract.address });
    await expectCode(wrongChain.collateralOf(miner), 'HORDE_COLLATERAL_WRONG_CHAIN');

    const noContract = new CollateralContract({
      rpcUrl: node.url,
      chainId: node.chainId,
      contractAddress: privateKeyToAccount(generatePrivateKey()).address,
    });
    await expectCode(noContract.collateralOf(miner), 'HORDE_COLLATERAL_CONTRACT_MISSING');

    // A port nothing listens on.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const down = new CollateralContract({
      rpcUrl: `http://127.0.0.1:${port}`,
      chainId: node.chainId,
      contractAddress: contract.address,
      timeoutMs: 2_000,
    });
    const error = await expectCode(down.collateralOf(miner), 'HORDE_COLLATERAL_RPC_UNREACHABLE');
    expect(error.transient).toBe(true);

    expect(() => new CollateralContract({ rpcUrl: node.url, chainId: node.chainId, contractAddress: '0x1234' })).toThrow(CollateralError);
    await expectCode(contract.collateralOf('5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY'), 'HORDE_COLLATERAL_BAD_INPUT');
    await expectCode(contract.deposit('0xnotakey', TAO), 'HORDE_COLLATERAL_BAD_INPUT');
  });
});
