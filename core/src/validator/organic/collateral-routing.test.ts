/**
 * Organic routing's collateral filter when things go wrong, against a real facilitator and a real
 * local EVM node: with the EVM RPC down or on the wrong chain since start, routing goes on without
 * the filter (ComputeHorde: "Collateral listing failed, proceeding without collateral filtering")
 * and says so; with every candidate below the minimum the job is refused with a reason that says
 * why. The miners are in the metagraph with axons nobody listens on, so each routed attempt
 * shows up as a miner tried.
 */
import { createServer } from 'node:net';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEvmNode, type EvmNode } from '../../../../test/support/evm-node.js';
import { LocalChain } from '../../chain/local/local-chain.js';
import { deployCollateralContract } from '../../collateral/client.js';
import { validatorSection } from '../../config/sections/validator.js';
import { startTestFacilitator, NETUID, type TestFacilitator } from '../../facilitator/__tests__/harness.js';
import { loadHotkey } from '../../keys/index.js';
import { silentLogger } from '../../logging/index.js';
import { SystemClock } from '../../time/clock.js';
import { HordeClient, type HordeJobSpec } from '../../sdk/index.js';
import { createValidator, type ValidatorHandle } from '../service.js';

const SPEC: HordeJobSpec = {
  executorClass: 'always_on.test',
  image: 'horde/echo:1',
  args: ['x'],
  downloadTimeLimitSec: 1,
  executionTimeLimitSec: 2,
  uploadTimeLimitSec: 1,
};

let f: TestFacilitator;
let evm: EvmNode;
let contractAddress: string;
let deadPort: number;
let validator: ValidatorHandle | null = null;
const chains: LocalChain[] = [];

async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitUntil(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function startWith(collateral: Record<string, unknown>): Promise<ValidatorHandle> {
  const chain = await LocalChain.open({ store: f.store, hotkey: f.validator.ss58, netuid: NETUID });
  chains.push(chain);
  validator = await createValidator({
    hotkey: f.validator,
    chain,
    store: f.store,
    netuid: NETUID,
    settings: validatorSection.parse({
      organic: {
        facilitatorUrl: `${f.handle.url!.replace(/^http/, 'ws')}/ws/v0/`,
        whitelist: [f.bob.ss58],
        reconnectMaxDelaySeconds: 1,
        heartbeatSeconds: 0.2,
        minerConnectTimeoutSeconds: 1,
      },
      collateral: { contractAddress, rpcTimeoutSeconds: 2, ...collateral },
    }),
    generators: [],
    hardwareClasses: [],
    scoringRules: [],
    logger: silentLogger(),
    clock: new SystemClock(),
    autoRun: false,
  });
  await waitUntil('the validator to log in to the facilitator', () => validator?.organic?.connected === true);
  return validator;
}

const bob = () => new HordeClient({ hotkey: f.bob, validatorHotkey: f.validator.ss58, facilitatorUrl: f.handle.url!, pollIntervalMs: 50 });

beforeAll(async () => {
  f = await startTestFacilitator({ listen: true, settings: { validatorLivenessSeconds: 5 } });
  evm = await startEvmNode();
  const trustee = generatePrivateKey();
  await evm.fund(privateKeyToAccount(trustee).address, 10n ** 18n);
  contractAddress = (
    await deployCollateralContract({ rpcUrl: evm.url, chainId: evm.chainId }, trustee, {
      netuid: NETUID,
      trustee: privateKeyToAccount(trustee).address,
      minCollateralIncreaseWei: 1n,
      decisionTimeoutSeconds: 60,
    })
  ).address;
  deadPort = await unusedPort();
  // Two miners with axons where nothing listens: routing tries them and moves on.
  for (const uri of ['//ColRouteA', '//ColRouteB']) {
    const hotkey = await loadHotkey({ uri });
    await f.chain.ledger.registerNeuron({ netuid: NETUID, hotkey: hotkey.ss58, coldkey: hotkey.ss58 });
    const chain = await LocalChain.open({ store: f.store, hotkey: hotkey.ss58, netuid: NETUID });
    chains.push(chain);
    await chain.serveAxon(NETUID, { ip: '127.0.0.1', port: await unusedPort(), protocol: 4, version: 1 });
  }
}, 120_000);

afterEach(async () => {
  await validator?.close();
  validator = null;
});

afterAll(async () => {
  for (const chain of chains) await chain.close().catch(() => undefined);
  await evm?.close();
  await f?.close();
});

describe('organic routing by collateral, when collateral cannot be read or nobody has enough', () => {
  it.each([
    ['the EVM RPC is down', () => ({ rpcUrl: `http://127.0.0.1:${deadPort}` }), 'HORDE_COLLATERAL_RPC_UNREACHABLE'],
    ['the RPC serves another chain', () => ({ rpcUrl: evm.url, chainId: 964 }), 'HORDE_COLLATERAL_WRONG_CHAIN'],
  ])(
    'routes without the filter when %s, and says so',
    async (_what, settings, code) => {
      const running = await startWith(settings());
      await waitUntil('the first collateral read to fail', () => running.organic!.collateral!.book.error !== null);
      expect(running.organic!.collateral!.book.error!.code).toBe(code);
      const unavailable: string[] = [];
      running.organic!.on('collateral-unavailable', (event) => unavailable.push(event.code));
      const job = await bob().runUntilComplete(SPEC, { maxAttempts: 1, timeoutMs: 20_000 });
      expect(job.status).toBe('rejected');
      // Both miners were tried: nobody was filtered out for collateral.
      expect(job.statusHistory.at(-1)?.metadata?.job_rejection_details).toMatchObject({
        reason: 'no_miner_for_job',
        message: 'no usable miner among 2 tried',
      });
      expect(unavailable).toEqual([code]);
    },
    60_000,
  );

  it('refuses the job, saying why, when every candidate has less than the minimum', async () => {
    const running = await startWith({ rpcUrl: evm.url, chainId: evm.chainId, minimumWei: '1' });
    await waitUntil('the first collateral read', () => running.organic!.collateral!.book.snapshot() !== null);
    const skipped: number[] = [];
    running.organic!.on('collateral-skipped', (event) => skipped.push(event.skipped.length));
    const job = await bob().runUntilComplete(SPEC, { maxAttempts: 1, timeoutMs: 20_000 });
    expect(job.statusHistory.at(-1)?.metadata?.job_rejection_details).toMatchObject({
      reason: 'no_miner_for_job',
      message: 'all 2 candidate miners have less than the minimum collateral (1 wei)',
    });
    expect(skipped).toEqual([2]);
  }, 60_000);

  it('does not filter at all with a minimum of 0', async () => {
    const running = await startWith({ rpcUrl: evm.url, chainId: evm.chainId, minimumWei: '0' });
    const events: string[] = [];
    running.organic!.on('collateral-skipped', () => events.push('skipped'));
    running.organic!.on('collateral-unavailable', () => events.push('unavailable'));
    const job = await bob().runUntilComplete(SPEC, { maxAttempts: 1, timeoutMs: 20_000 });
    expect(job.statusHistory.at(-1)?.metadata?.job_rejection_details).toMatchObject({ message: 'no usable miner among 2 tried' });
    expect(events).toEqual([]);
  }, 60_000);
});
