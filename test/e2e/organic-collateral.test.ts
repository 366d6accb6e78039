/**
 * Collateral end to end, on a real local EVM node (Hardhat 2's node from node_modules) and one
 * LocalChain: the validator deploys its collateral contract (it is the trustee); two miners
 * associate EVM keys with their hotkeys and deposit — one at least the validator's minimum, one
 * below it. Organic jobs from a client (SDK → facilitator → validator) all go to the miner with
 * enough collateral, although least-recently-used routing would alternate; the other is skipped
 * with a log line and a metric. A failed trusted-miner cross-check and a client's cheat report
 * each slash the configured amount on chain, with the reason, once per job, also across a restart
 * that lost the record of a slash.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalChain } from '../../core/src/chain/local/local-chain.js';
import { signAssociation } from '../../core/src/collateral/association.js';
import { CollateralContract, deployCollateralContract } from '../../core/src/collateral/client.js';
import { executorSection } from '../../core/src/config/sections/executor.js';
import { facilitatorSection } from '../../core/src/config/sections/facilitator.js';
import { minerSection } from '../../core/src/config/sections/miner.js';
import { validatorSection } from '../../core/src/config/sections/validator.js';
import type { HardwareClass, Store } from '../../core/src/contracts/index.js';
import { createFacilitator, type FacilitatorHandle } from '../../core/src/facilitator/index.js';
import { loadHotkey, type Hotkey } from '../../core/src/keys/index.js';
import { createLogger, silentLogger } from '../../core/src/logging/index.js';
import { createMetricsRegistry } from '../../core/src/metrics/index.js';
import { createMiner, type RunningMiner } from '../../core/src/miner/miner.js';
import { SystemClock } from '../../core/src/time/clock.js';
import { openStore } from '../../core/src/store/index.js';
import { createValidator, type ValidatorHandle } from '../../core/src/validator/index.js';
import { ValidatorMetrics } from '../../core/src/validator/metrics.js';
import { HordeClient, type HordeJobSpec } from '@horde/core/sdk';
import { LocalExecutorManager } from '../../executor-managers/local/src/local-executor-manager.js';
import { HARDWARE_CLASSES } from '../../plugins/hardware-classes/src/classes.js';
import { CLASSIC_RULES, classicRule, scoringClassicConfig } from '../../plugins/scoring-classic/src/index.js';
import { startEvmNode, type EvmNode } from '../support/evm-node.js';
import { requireBuiltCli } from '../support/miner-harness.js';
import { waitFor } from '../support/wait.js';

const NETUID = 12;
const TEST = 'always_on.test';
const IMAGE = 'horde/echo:1';
const ECHO = ['node', '-e', 'process.stdout.write(`echo ${process.argv.slice(1).join(" ")} on ${process.env.RUN_ON ?? "miner"}\\n`)'];
const TAO = 10n ** 18n;
const MINIMUM = TAO / 100n; // 0.01 TAO, ComputeHorde's default minimum
const SLASH = (5n * TAO) / 1000n; // 0.005 TAO, its default slash
const RICH_DEPOSIT = (2n * TAO) / 100n;
const POOR_DEPOSIT = (5n * TAO) / 1000n;

const logger = process.env.HORDE_TEST_LOG ? createLogger({ level: 'debug', destination: 'stderr' }) : silentLogger();
const clock = new SystemClock();
const dataDir = mkdtempSync(join(tmpdir(), 'horde-collateral-e2e-'));
const stores: Store[] = [];
const chains: LocalChain[] = [];
const miners: RunningMiner[] = [];
let evm: EvmNode;
let contract: CollateralContract;
let facilitator: FacilitatorHandle;
let validator: ValidatorHandle;
let startOurValidator: () => Promise<ValidatorHandle>;
let validatorStore: Store;
let validatorSettings: ReturnType<typeof validatorSection.parse>;
let keys: Record<'validator' | 'rich' | 'poor' | 'trusted' | 'client', Hotkey>;
const evmKeys = { validator: generatePrivateKey(), rich: generatePrivateKey(), poor: generatePrivateKey() };
let client: HordeClient;
const registry = new Registry();
let stopMetrics: () => void = () => {};

async function store(name: string): Promise<Store> {
  const opened = await openStore({ client: 'sqlite', filename: join(dataDir, `${name}.sqlite`) });
  stores.push(opened);
  return opened;
}

async function chainFor(chainStore: Store, hotkey?: Hotkey): Promise<LocalChain> {
  const chain = await LocalChain.open({ store: chainStore, netuid: NETUID, ...(hotkey ? { hotkey: hotkey.ss58 } : {}) });
  chains.push(chain);
  return chain;
}

async function startMinerFor(
  chainStore: Store,
  name: string,
  hotkey: Hotkey,
  options: { localModeValidator?: string; env?: string } = {},
): Promise<RunningMiner> {
  const miner = await createMiner({
    settings: minerSection.parse({
      host: '127.0.0.1',
      port: 0,
      manifestCommitIntervalSeconds: 0,
      executorStartupTimeLimitSeconds: 10,
      ...(options.localModeValidator ? { localMode: { validatorHotkey: options.localModeValidator } } : {}),
    }),
    executorSettings: executorSection.parse({
      runner: 'process',
      processImages: { [IMAGE]: options.env ? ['env', options.env, ...ECHO] : ECHO },
      machineSpecs: false,
    }),
    hotkeys: [hotkey],
    store: await store(name),
    chain: await chainFor(chainStore, hotkey),
    netuid: NETUID,
    executorManager: new LocalExecutorManager({ executorClass: TEST, executors: 2, killGraceMs: 2_000, logger }),
    dancingStrategy: null,
    hardwareClasses: HARDWARE_CLASSES as HardwareClass[],
    dataDir: join(dataDir, name),
    logger: logger.child({ miner: name }),
    metrics: createMetricsRegistry({ defaultMetrics: false }),
    clock,
  });
  miners.push(miner);
  if (!options.localModeValidator)
    await (await chainFor(chainStore, hotkey)).serveAxon(NETUID, { ip: '127.0.0.1', port: miner.port, protocol: 4, version: 1 });
  return miner;
}

/** What a miner operator does: associate its EVM key with its hotkey, then deposit. */
async function associateAndDeposit(chainStore: Store, hotkey: Hotkey, evmKey: `0x${string}`, amountWei: bigint): Promise<void> {
  const chain = await chainFor(chainStore, hotkey);
  const block = await chain.currentBlock();
  const signed = await signAssociation(evmKey, hotkey.publicKey, block);
  await chain.associateEvmKey(NETUID, signed.evmAddress, block, signed.signature);
  await contract.deposit(evmKey, amountWei);
}

beforeAll(async () => {
  requireBuiltCli();
  evm = await startEvmNode();
  for (const key of Object.values(evmKeys)) await evm.fund(privateKeyToAccount(key).address, TAO);
  const deployed = await deployCollateralContract({ rpcUrl: evm.url, chainId: evm.chainId }, evmKeys.validator, {
    netuid: NETUID,
    trustee: privateKeyToAccount(evmKeys.validator).address,
    minCollateralIncreaseWei: TAO / 1000n,
    decisionTimeoutSeconds: 3600,
  });
  contract = new CollateralContract({ rpcUrl: evm.url, chainId: evm.chainId, contractAddress: deployed.address });

  const [v, r, p, t, c] = await Promise.all(
    ['//ColValidator', '//ColRich', '//ColPoor', '//ColTrusted', '//ColClient'].map((uri) => loadHotkey({ uri })),
  );
  keys = { validator: v!, rich: r!, poor: p!, trusted: t!, client: c! };
  const chainStore = await store('chain');
  await LocalChain.init(chainStore, { blockTimeMs: 250, subnets: [{ netuid: NETUID }] });
  const admin = await chainFor(chainStore);
  await admin.ledger.registerNeuron({ netuid: NETUID, hotkey: v!.ss58, coldkey: v!.ss58, stake: 100_000, validatorPermit: true });
  await admin.ledger.registerNeuron({ netuid: NETUID, hotkey: r!.ss58, coldkey: r!.ss58 });
  await admin.ledger.registerNeuron({ netuid: NETUID, hotkey: p!.ss58, coldkey: p!.ss58 });
  await associateAndDeposit(chainStore, r!, evmKeys.rich, RICH_DEPOSIT);
  await associateAndDeposit(chainStore, p!, evmKeys.poor, POOR_DEPOSIT);

  await startMinerFor(chainStore, 'rich', r!);
  await startMinerFor(chainStore, 'poor', p!);
  const trusted = await startMinerFor(chainStore, 'trusted', t!, { localModeValidator: v!.ss58, env: 'RUN_ON=trusted-miner' });

  facilitator = await createFacilitator({
    settings: facilitatorSection.parse({ host: '127.0.0.1', port: 0, hotkeyWhitelist: [c!.ss58] }),
    store: await store('facilitator'),
    chain: await chainFor(chainStore),
    netuid: NETUID,
    logger: logger.child({ role: 'facilitator' }),
    clock,
  });

  const evmKeyFile = join(dataDir, 'validator-h160.json');
  writeFileSync(evmKeyFile, JSON.stringify({ private_key: evmKeys.validator }), { mode: 0o600 });
  const rules = scoringClassicConfig.parse({ classWeights: { [TEST]: 1 } });
  validatorStore = await store('validator');
  const validatorChain = await chainFor(chainStore, v!);
  startOurValidator = () =>
    createValidator({
      hotkey: v!,
      chain: validatorChain,
      store: validatorStore,
      netuid: NETUID,
      settings: validatorSettings,
      generators: [],
      hardwareClasses: HARDWARE_CLASSES as HardwareClass[],
      scoringRules: CLASSIC_RULES.map((name) => classicRule(name, rules)),
      logger: logger.child({ role: 'validator' }),
      clock,
      autoRun: false,
    });
  validatorSettings = validatorSection.parse({
    cycleLengthBlocks: 100_000,
    jobResponseSlackSeconds: 10,
    trustedMiner: { address: '127.0.0.1', port: trusted.port, hotkey: t!.ss58 },
    organic: { facilitatorUrl: `${facilitator.url!.replace(/^http/, 'ws')}/ws/v0/`, whitelist: [c!.ss58] },
    collateral: {
      contractAddress: deployed.address,
      rpcUrl: evm.url,
      chainId: evm.chainId,
      minimumWei: String(MINIMUM),
      slashAmountWei: String(SLASH),
      evmKeyFile,
    },
  });
  validator = await startOurValidator();
  stopMetrics = new ValidatorMetrics(registry).observe(validator);
  await waitFor('the validator to log in to the facilitator', () => (validator.organic?.connected ? true : undefined));
  await waitFor('the first collateral read', () => validator.organic?.collateral?.book.snapshot() ?? undefined, 30_000);
  client = new HordeClient({ hotkey: c!, validatorHotkey: v!.ss58, facilitatorUrl: facilitator.url!, pollIntervalMs: 200 });
}, 120_000);

afterAll(async () => {
  stopMetrics();
  await validator?.close();
  await facilitator?.close();
  for (const miner of miners) await miner.close().catch(() => undefined);
  for (const chain of chains) await chain.close().catch(() => undefined);
  for (const opened of stores) await opened.close().catch(() => undefined);
  await evm?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

let lastCheated: string | null = null;
let crossCheckedJob: string | null = null;

const SPEC: HordeJobSpec = {
  executorClass: TEST,
  image: IMAGE,
  args: ['paid'],
  downloadTimeLimitSec: 5,
  executionTimeLimitSec: 10,
  uploadTimeLimitSec: 5,
};

describe('collateral in organic routing and slashing', () => {
  it("reads each miner's deposit through its associated EVM key", () => {
    const snapshot = validator.organic!.collateral!.book.snapshot()!;
    expect(snapshot.miners.get(keys.rich.ss58)).toMatchObject({ evmAddress: privateKeyToAccount(evmKeys.rich).address, wei: RICH_DEPOSIT });
    expect(snapshot.miners.get(keys.poor.ss58)).toMatchObject({ evmAddress: privateKeyToAccount(evmKeys.poor).address, wei: POOR_DEPOSIT });
    // The validator itself has no associated key, so no collateral.
    expect(snapshot.miners.get(keys.validator.ss58)).toMatchObject({ evmAddress: null, wei: 0n });
  });

  it('routes organic jobs only to the miner with the minimum collateral, and slashes it after a failed cross-check and a cheat report', async () => {
    const skipped: Array<{ hotkey: string; wei: bigint }[]> = [];
    validator.organic!.on('collateral-skipped', (event) => skipped.push([...event.skipped]));
    const finished: Array<string | null> = [];
    validator.organic!.on('job-finished', (outcome) => finished.push(outcome.minerHotkey));

    // Least recently used first would send the second job to the other miner; collateral does not.
    const first = await client.runUntilComplete(SPEC, { timeoutMs: 30_000 });
    // The second is also run on the trusted miner by the validator itself (a cross-check), which
    // answers differently: caught without any report, and slashed.
    validatorSettings.organicCrossCheckFraction = 1;
    const crossChecked = new Promise<{ jobUuid: string; amountWei: bigint }>((resolve) => validator.organic!.once('slashed', resolve));
    const second = await client.runUntilComplete({ ...SPEC, args: ['again'] }, { timeoutMs: 30_000 });
    expect([first.status, second.status]).toEqual(['completed', 'completed']);
    expect(await crossChecked).toMatchObject({ jobUuid: second.uuid, amountWei: SLASH });
    validatorSettings.organicCrossCheckFraction = 0;
    expect(finished).toEqual([keys.rich.ss58, keys.rich.ss58]);
    expect(skipped).toEqual([[{ hotkey: keys.poor.ss58, wei: POOR_DEPOSIT }], [{ hotkey: keys.poor.ss58, wei: POOR_DEPOSIT }]]);
    expect((await registry.getSingleMetric('horde_validator_collateral_skipped_miners_total')!.get()).values[0]?.value).toBe(2);

    // The client's twin run on the trusted miner gives another answer; the client reports it.
    const twin = await client.runUntilComplete(SPEC, { onTrustedMiner: true, timeoutMs: 30_000 });
    expect(twin.result?.stdout).toBe('echo paid on trusted-miner\n');
    const slashed = new Promise<{ jobUuid: string; amountWei: bigint; tx: string; evmAddress: string }>((resolve) =>
      validator.organic!.once('slashed', resolve),
    );
    // The miner is blacklisted since the cross-check, but a report on its earlier job still counts.
    await client.reportCheatedJob(first.uuid, twin.uuid, { details: { expected: twin.result?.stdout ?? null } });
    const event = await slashed;
    expect(event).toMatchObject({
      jobUuid: first.uuid,
      minerHotkey: keys.rich.ss58,
      amountWei: SLASH,
      evmAddress: privateKeyToAccount(evmKeys.rich).address,
    });

    // On chain: the configured amount is gone per cheated job, with ComputeHorde's reason.
    expect(await contract.collateralOf(privateKeyToAccount(evmKeys.rich).address)).toBe(RICH_DEPOSIT - 2n * SLASH);
    expect(await contract.collateralOf(privateKeyToAccount(evmKeys.poor).address)).toBe(POOR_DEPOSIT);
    expect(await contract.slashes(privateKeyToAccount(evmKeys.rich).address)).toEqual([
      expect.objectContaining({ amountWei: SLASH, url: `job ${second.uuid} cheated` }),
      expect.objectContaining({ amountWei: SLASH, url: `job ${first.uuid} cheated`, tx: event.tx }),
    ]);
    const row = await validator.organic!.store.job(first.uuid);
    expect(row).toMatchObject({ cheated: true, slashTx: event.tx, slashAttempts: 1, slashError: null });
    expect(row!.slashedAt).not.toBeNull();
    expect((await registry.getSingleMetric('horde_validator_collateral_slashes_total')!.get()).values).toEqual([
      expect.objectContaining({ labels: { status: 'slashed' }, value: 2 }),
    ]);

    // The same report again is refused (the facilitator already has it); nothing more is taken.
    await expect(client.reportCheatedJob(first.uuid, twin.uuid, { details: { again: true } })).rejects.toThrow(/already reported/);
    expect(await contract.collateralOf(privateKeyToAccount(evmKeys.rich).address)).toBe(RICH_DEPOSIT - 2n * SLASH);
    expect(await contract.slashes(privateKeyToAccount(evmKeys.rich).address)).toHaveLength(2);
    lastCheated = first.uuid;
    crossCheckedJob = second.uuid;
  }, 90_000);

  it('finishes at the next start a slash whose record was lost, without slashing twice', async () => {
    expect(lastCheated).not.toBeNull();
    const rich = privateKeyToAccount(evmKeys.rich).address;
    const before = await contract.collateralOf(rich);
    // As if the validator had crashed after sending the slash and before recording it.
    stopMetrics();
    await validator.close();
    await validatorStore
      .db('validator_organic_jobs')
      .where({ job_uuid: lastCheated })
      .update({ slashed_at: null, slash_tx: null, slash_error: null });
    // And as if the other job's slash had been refused: a refusal is not tried again.
    await validatorStore
      .db('validator_organic_jobs')
      .where({ job_uuid: crossCheckedJob })
      .update({ slashed_at: null, slash_tx: null, slash_error: 'HORDE_COLLATERAL_REVERTED: the contract refused (InsufficientAmount)' });
    validator = await startOurValidator();
    stopMetrics = new ValidatorMetrics(new Registry()).observe(validator);
    const row = await waitFor(
      'the slash to be recorded again',
      async () => {
        const job = await validator.organic!.store.job(lastCheated!);
        return job?.slashedAt !== null ? job : undefined;
      },
      30_000,
    );
    expect(row!.slashTx).toBe((await contract.slashes(rich))[1]!.tx);
    expect(row!.slashError).toBeNull();
    expect(await contract.collateralOf(rich)).toBe(before);
    expect(await contract.slashes(rich)).toHaveLength(2);
    // Slashes run one at a time, the older cheat first: the refused one was passed over.
    expect(await validator.organic!.store.job(crossCheckedJob!)).toMatchObject({
      slashedAt: null,
      slashError: expect.stringMatching(/^HORDE_COLLATERAL_REVERTED/),
    });
  }, 60_000);
});
