/**
 * The organic path end to end over real sockets: a client with the SDK → the facilitator (HTTP) →
 * the validator (websocket, organic routing) → a horde miner whose executor is a real
 * `horde executor` process (process runner, the image mapped to a `node -e` program). A trusted
 * miner (local mode, off chain) gives other answers than the miner: a validator cross-check, and a
 * client's cheat report, each withdraw an organic point and keep the miner off organic jobs.
 * Everything runs on one LocalChain.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalChain } from '../../core/src/chain/local/local-chain.js';
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
import { cycleOf } from '../../core/src/validator/cycles.js';
import { createValidator, type ValidatorHandle } from '../../core/src/validator/index.js';
import { HordeClient, type HordeJobSpec } from '@horde/core/sdk';
import { LocalExecutorManager } from '../../executor-managers/local/src/local-executor-manager.js';
import { HARDWARE_CLASSES } from '../../plugins/hardware-classes/src/classes.js';
import { CLASSIC_RULES, classicRule, scoringClassicConfig } from '../../plugins/scoring-classic/src/index.js';
import { requireBuiltCli } from '../support/miner-harness.js';
import { waitFor } from '../support/wait.js';

const NETUID = 12;
const TEST = 'always_on.test';
const IMAGE = 'horde/echo:1';
/** The "image": prints its arguments, and where it ran (the trusted miner sets RUN_ON). */
const ECHO = ['node', '-e', 'process.stdout.write(`echo ${process.argv.slice(1).join(" ")} on ${process.env.RUN_ON ?? "miner"}\\n`)'];
const CYCLE_BLOCKS = 100_000; // one cycle for the whole test

const logger = process.env.HORDE_TEST_LOG ? createLogger({ level: 'debug', destination: 'stderr' }) : silentLogger();
const clock = new SystemClock();
const dataDir = mkdtempSync(join(tmpdir(), 'horde-organic-e2e-'));
const stores: Store[] = [];
const chains: LocalChain[] = [];
const miners: RunningMiner[] = [];
let facilitator: FacilitatorHandle;
let validator: ValidatorHandle;
let keys: Record<'validator' | 'miner' | 'trusted' | 'client', Hotkey>;
let client: HordeClient;
let minerStore: Store;
let validatorSettings: ReturnType<typeof validatorSection.parse>;

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
    // The trusted miner's "image" prints where it ran, so the client sees two different results.
    executorSettings: executorSection.parse({
      runner: 'process',
      processImages: { [IMAGE]: options.env ? ['env', options.env, ...ECHO] : ECHO },
      machineSpecs: false,
    }),
    hotkeys: [hotkey],
    store: name === 'miner' ? (minerStore = await store(name)) : await store(name),
    chain: await chainFor(chainStore, hotkey),
    netuid: NETUID,
    executorManager: new LocalExecutorManager({
      executorClass: TEST,
      executors: options.localModeValidator ? 2 : 1,
      killGraceMs: 2_000,
      logger,
    }),
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

beforeAll(async () => {
  requireBuiltCli();
  const [v, m, t, c] = await Promise.all(['//OrgValidator', '//OrgMiner', '//OrgTrusted', '//OrgClient'].map((uri) => loadHotkey({ uri })));
  keys = { validator: v!, miner: m!, trusted: t!, client: c! };

  const chainStore = await store('chain');
  await LocalChain.init(chainStore, { blockTimeMs: 250, subnets: [{ netuid: NETUID }] });
  const admin = await chainFor(chainStore);
  await admin.ledger.registerNeuron({ netuid: NETUID, hotkey: v!.ss58, coldkey: v!.ss58, stake: 100_000, validatorPermit: true });
  await admin.ledger.registerNeuron({ netuid: NETUID, hotkey: m!.ss58, coldkey: m!.ss58 });

  await startMinerFor(chainStore, 'miner', m!);
  const trusted = await startMinerFor(chainStore, 'trusted', t!, { localModeValidator: v!.ss58, env: 'RUN_ON=trusted-miner' });

  facilitator = await createFacilitator({
    settings: facilitatorSection.parse({ host: '127.0.0.1', port: 0, hotkeyWhitelist: [c!.ss58] }),
    store: await store('facilitator'),
    chain: await chainFor(chainStore),
    netuid: NETUID,
    logger: logger.child({ role: 'facilitator' }),
    clock,
  });

  const rules = scoringClassicConfig.parse({ classWeights: { [TEST]: 1 } });
  validatorSettings = validatorSection.parse({
    cycleLengthBlocks: CYCLE_BLOCKS,
    jobResponseSlackSeconds: 10,
    trustedMiner: { address: '127.0.0.1', port: trusted.port, hotkey: t!.ss58 },
    organicCrossCheckFraction: 0,
    organic: { facilitatorUrl: `${facilitator.url!.replace(/^http/, 'ws')}/ws/v0/`, whitelist: [c!.ss58] },
  });
  validator = await createValidator({
    hotkey: v!,
    chain: await chainFor(chainStore, v!),
    store: await store('validator'),
    netuid: NETUID,
    settings: validatorSettings,
    generators: [],
    hardwareClasses: HARDWARE_CLASSES as HardwareClass[],
    scoringRules: CLASSIC_RULES.map((name) => classicRule(name, rules)),
    logger: logger.child({ role: 'validator' }),
    clock,
    // Only the organic path: no synthetic batches follow the chain here.
    autoRun: false,
  });
  await waitFor('the validator to log in to the facilitator', () => (validator.organic?.connected ? true : undefined));
  client = new HordeClient({ hotkey: c!, validatorHotkey: v!.ss58, facilitatorUrl: facilitator.url!, pollIntervalMs: 200 });
}, 60_000);

afterAll(async () => {
  await validator?.close();
  await facilitator?.close();
  for (const miner of miners) await miner.close().catch(() => undefined);
  for (const chain of chains) await chain.close().catch(() => undefined);
  for (const opened of stores) await opened.close().catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
});

const SPEC: HordeJobSpec = {
  executorClass: TEST,
  namespace: 'SN99.0',
  image: IMAGE,
  args: ['hello', 'horde'],
  downloadTimeLimitSec: 5,
  executionTimeLimitSec: 10,
  uploadTimeLimitSec: 5,
};

describe('organic jobs end to end', () => {
  it('runs a client job on a miner, pays it in scoring, and withdraws the pay after a failed cross-check or a cheat report', async () => {
    // 1. The client's job runs on the miner; every status comes back through the facilitator.
    const job = await client.runUntilComplete(SPEC, { timeoutMs: 30_000 });
    expect(job.status).toBe('completed');
    expect(job.result?.stdout).toBe('echo hello horde on miner\n');
    expect(job.statusHistory.map((s) => s.status)).toEqual([
      'sent',
      'received',
      'accepted',
      'executor_ready',
      'volumes_ready',
      'execution_done',
      'completed',
    ]);
    expect(job.statusHistory.at(-1)?.metadata?.miner_response?.docker_process_stdout).toBe('echo hello horde on miner\n');
    // The miner holds the validator's receipts: an organic job-started receipt whose ttl is the
    // reservation window (7 s), then the accepted and finished ones.
    const receipts = await minerStore.db('miner_receipts').where({ job_uuid: job.uuid }).orderBy('id');
    expect(receipts.map((r) => r.receipt_type)).toEqual(['JobStartedReceipt', 'JobAcceptedReceipt', 'JobFinishedReceipt']);
    expect(receipts[0]).toMatchObject({ executor_class: TEST, ttl: 7, validator_hotkey: keys.validator.ss58 });
    expect(Boolean(receipts[0].is_organic)).toBe(true);

    // 2. The validator stored the outcome for scoring, and the classic organic rule pays it.
    const cycle = cycleOf(await chains[0]!.currentBlock(), CYCLE_BLOCKS).index;
    const outcomes = await validator.store.jobOutcomes(cycle);
    expect(outcomes).toEqual([
      expect.objectContaining({
        jobUuid: job.uuid,
        kind: 'organic',
        minerHotkey: keys.miner.ss58,
        executorClass: TEST,
        status: 'completed',
        accepted: true,
      }),
    ]);
    // With its status history as the validator saw it, the same steps the facilitator relayed.
    expect((await validator.store.jobHistory(job.uuid)).map((t) => t.status)).toEqual([
      'sent',
      'accepted',
      'executor_ready',
      'job_sent',
      'volumes_ready',
      'execution_done',
      'result_received',
      'completed',
    ]);
    const organicPoints = (result: Awaited<ReturnType<ValidatorHandle['scoreCycle']>>) =>
      result.steps.find((step) => step.rule === 'organic-jobs')!.table[keys.miner.ss58]?.[TEST] ?? 0;
    const paid = await validator.scoreCycle(cycle);
    expect(organicPoints(paid)).toBe(1);
    expect(paid.weights.find((w) => w.hotkey === keys.miner.ss58)?.weight).toBeCloseTo(1, 9);

    // 3. The validator now re-runs every organic job on its trusted miner (organicCrossCheckFraction
    //    is read per job). The miner's answer differs from the trusted one: that job's pay is
    //    withdrawn and the miner blacklisted, without anyone reporting it.
    validatorSettings.organicCrossCheckFraction = 1;
    const caught = new Promise<{ jobUuid: string; source: string }>((resolve) => validator.organic!.once('job-cheated', resolve));
    const checked = await client.runUntilComplete({ ...SPEC, args: ['checked'] }, { timeoutMs: 30_000 });
    expect(checked.result?.stdout).toBe('echo checked on miner\n');
    expect(await caught).toMatchObject({ jobUuid: checked.uuid, minerHotkey: keys.miner.ss58, source: 'cross-check' });
    validatorSettings.organicCrossCheckFraction = 0;
    expect((await validator.store.jobOutcomes(cycle)).map((o) => [o.jobUuid, o.correct ?? null])).toEqual([
      [job.uuid, null],
      [checked.uuid, false],
    ]);
    expect(organicPoints(await validator.scoreCycle(cycle))).toBe(1);

    // 4. The client runs the first job on the validator's trusted miner; its result differs, so
    //    the client reports it. The validator withdraws that job's point too.
    const twin = await client.runUntilComplete(SPEC, { onTrustedMiner: true, timeoutMs: 30_000 });
    expect(twin.result?.stdout).toBe('echo hello horde on trusted-miner\n');
    // Ground truth is not paid work: still two organic jobs for scoring.
    expect(await validator.store.jobOutcomes(cycle)).toHaveLength(2);
    const reported = new Promise<{ jobUuid: string; source: string }>((resolve) => validator.organic!.once('job-cheated', resolve));
    await client.reportCheatedJob(job.uuid, twin.uuid, { details: { expected: twin.result?.stdout ?? null } });
    expect(await reported).toEqual({ jobUuid: job.uuid, minerHotkey: keys.miner.ss58, source: 'report' });
    expect((await validator.store.jobOutcomes(cycle))[0]).toMatchObject({ jobUuid: job.uuid, correct: false });
    const withdrawn = await validator.scoreCycle(cycle);
    expect(organicPoints(withdrawn)).toBe(0);
    expect(withdrawn.weights.find((w) => w.hotkey === keys.miner.ss58)?.weight ?? 0).toBe(0);

    // 5. The blacklisted miner gets no more organic jobs: with no other miner, the job is refused.
    const refused = await client.runUntilComplete(SPEC, { maxAttempts: 1, timeoutMs: 15_000 });
    expect(refused.status).toBe('rejected');
    expect(refused.statusHistory.at(-1)?.metadata?.job_rejection_details).toMatchObject({
      rejected_by: 'validator',
      reason: 'no_miner_for_job',
    });
  }, 60_000);
});
