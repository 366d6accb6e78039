/**
 * The validator end to end, two cycles on a LocalChain with real miners:
 * - a trusted miner (local mode, not on chain) that answers the LLM prompt samples (ground truth);
 * - an honest miner with two hash-crack executors and one LLM executor;
 * - a cheater whose process-runner mapping points the hash-crack image at `job/cheat.mjs`;
 * - a dancer serving two hotkeys of one coldkey with the `rotate-main` strategy.
 * Executors are real `horde executor` processes (process runner) running the shipped job scripts;
 * prompt series and answers go through the S3 test server. The validator follows the chain's
 * blocks on its own: batches in its slots, scoring at each cycle's end, weights through
 * commit-reveal, reveals when due. Then `horde validator scores` prints the breakdown.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalChain } from '../../core/src/chain/local/local-chain.js';
import { executorSection } from '../../core/src/config/sections/executor.js';
import { minerSection } from '../../core/src/config/sections/miner.js';
import { validatorSection } from '../../core/src/config/sections/validator.js';
import type {
  ExecutorHandle,
  ExecutorManager,
  ExecutorStartContext,
  HardwareClass,
  Store,
  WeightSubmissionResult,
} from '../../core/src/contracts/index.js';
import { loadHotkey, type Hotkey } from '../../core/src/keys/index.js';
import { createLogger, silentLogger } from '../../core/src/logging/index.js';
import { createMetricsRegistry } from '../../core/src/metrics/index.js';
import { createMiner, type RunningMiner } from '../../core/src/miner/miner.js';
import { S3ObjectStore } from '../../core/src/objectstore/s3.js';
import { SystemClock } from '../../core/src/time/clock.js';
import { openStore } from '../../core/src/store/index.js';
import { createValidator, type ValidatorHandle } from '../../core/src/validator/index.js';
import type { ScoringResult } from '../../core/src/validator/scoring/engine.js';
import { LocalExecutorManager } from '../../executor-managers/local/src/local-executor-manager.js';
import { rotateMain } from '../../plugins/dancing/src/strategies.js';
import { HARDWARE_CLASSES } from '../../plugins/hardware-classes/src/classes.js';
import { HashCrackGenerator } from '../../plugins/job-hash-crack/src/generator.js';
import { LlmPromptsGenerator } from '../../plugins/job-llm-prompts/src/generator.js';
import { CLASSIC_RULES, classicRule, scoringClassicConfig } from '../../plugins/scoring-classic/src/index.js';
import { requireBuiltCli } from '../support/miner-harness.js';
import { s3Config, uniqueBucketName } from '../support/services.js';
import { TEST_SERVERS_ALLOWLIST } from '../support/egress.js';
import { waitFor } from '../support/wait.js';

const NETUID = 12;
const BLOCK_MS = 250;
const CYCLE_BLOCKS = 80; // 20 s: room for a batch (executor processes start in ~1 s) per cycle
const TEST = 'always_on.test';
const LLM = 'always_on.llm.a6000';
const CRACK = fileURLToPath(new URL('../../plugins/job-hash-crack/job/crack.mjs', import.meta.url));
const CHEAT = fileURLToPath(new URL('../../plugins/job-hash-crack/job/cheat.mjs', import.meta.url));
const SOLVE = fileURLToPath(new URL('../../plugins/job-llm-prompts/job/solve.mjs', import.meta.url));
const CLI = fileURLToPath(new URL('../../core/bin/horde.js', import.meta.url));
const HASH_IMAGE = 'horde/job-hash-crack:1';
const LLM_IMAGE = 'horde/job-llm-prompts:1';

const classOf = (id: string): HardwareClass => HARDWARE_CLASSES.find((c) => c.id === id)!;
/**
 * ComputeHorde's classes, except that the LLM class's 30 s spin-up is cut to 3 s: the batch sends
 * slow classes first and waits for them, which would make every cycle of this test 30 s longer.
 * Its GPU requirements are dropped too: this machine's executors stand in for an A6000, and the
 * validator's spec cross-check (tested in test/e2e/hardware-specs.test.ts) would fail them.
 */
const HARDWARE = [classOf(TEST), { ...classOf(LLM), spinUpSeconds: 3, resources: {} }];

/** Several classes on one machine: each class's executors come from its own local manager. */
class PerClassManager implements ExecutorManager {
  private readonly owner = new Map<string, ExecutorManager>();
  constructor(private readonly byClass: Record<string, ExecutorManager>) {}
  async manifest() {
    const manifests = await Promise.all(Object.values(this.byClass).map((manager) => manager.manifest()));
    return Object.assign({}, ...manifests);
  }
  async start(token: string, executorClass: string, ctx: ExecutorStartContext): Promise<ExecutorHandle> {
    const manager = this.byClass[executorClass];
    if (!manager) throw new Error(`no ${executorClass} executors here`);
    const handle = await manager.start(token, executorClass, ctx);
    this.owner.set(handle.id, manager);
    return handle;
  }
  poll(handle: ExecutorHandle) {
    return this.owner.get(handle.id)!.poll(handle);
  }
  kill(handle: ExecutorHandle) {
    return this.owner.get(handle.id)?.kill(handle) ?? Promise.resolve();
  }
}

const logger = process.env.HORDE_TEST_LOG ? createLogger({ level: 'debug', destination: 'stderr' }) : silentLogger();
const clock = new SystemClock();
const dataDir = mkdtempSync(join(tmpdir(), 'horde-validator-e2e-'));
const stores: Store[] = [];
const chains: LocalChain[] = [];
const miners: RunningMiner[] = [];
let validator: ValidatorHandle;
let keys: Record<'validator' | 'trusted' | 'honest' | 'cheater' | 'dancer1' | 'dancer2', Hotkey>;
let objectStore: S3ObjectStore;
let dancerColdkey: string;
const scored = new Map<number, ScoringResult>();
const weightsSet = new Map<number, WeightSubmissionResult | null>();

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
  hotkeys: Hotkey[],
  manager: ExecutorManager,
  processImages: Record<string, string[]>,
  extra: { localModeValidator?: string; dancing?: boolean } = {},
): Promise<RunningMiner> {
  const chain = await chainFor(chainStore, hotkeys[0]);
  const miner = await createMiner({
    settings: minerSection.parse({
      host: '127.0.0.1',
      port: 0,
      manifestCommitIntervalSeconds: 0,
      cycleLengthBlocks: CYCLE_BLOCKS,
      executorStartupTimeLimitSeconds: 10,
      ...(extra.localModeValidator ? { localMode: { validatorHotkey: extra.localModeValidator } } : {}),
    }),
    executorSettings: executorSection.parse({
      runner: 'process',
      processImages,
      machineSpecs: false,
      egressAllowlist: TEST_SERVERS_ALLOWLIST,
    }),
    hotkeys,
    store: await store(name),
    chain,
    netuid: NETUID,
    executorManager: manager,
    dancingStrategy: extra.dancing ? rotateMain() : null,
    hardwareClasses: HARDWARE,
    dataDir: join(dataDir, name),
    logger: logger.child({ miner: name }),
    metrics: createMetricsRegistry({ defaultMetrics: false }),
    clock,
  });
  miners.push(miner);
  if (!extra.localModeValidator) {
    // Each hotkey announces the miner's address, as `horde miner` does on a real chain.
    for (const hotkey of hotkeys)
      await (await chainFor(chainStore, hotkey)).serveAxon(NETUID, { ip: '127.0.0.1', port: miner.port, protocol: 4, version: 1 });
  }
  return miner;
}

const local = (executorClass: string, executors: number) =>
  new LocalExecutorManager({ executorClass, executors, killGraceMs: 2_000, logger });

beforeAll(async () => {
  requireBuiltCli();
  const loaded = await Promise.all(
    ['//E2EValidator', '//E2ETrusted', '//E2EHonest', '//E2ECheater', '//E2EDancer1', '//E2EDancer2'].map((uri) => loadHotkey({ uri })),
  );
  const [v, t, h, c, d1, d2] = loaded as [Hotkey, Hotkey, Hotkey, Hotkey, Hotkey, Hotkey];
  keys = { validator: v, trusted: t, honest: h, cheater: c, dancer1: d1, dancer2: d2 };

  const chainStore = await store('chain');
  await LocalChain.init(chainStore, {
    blockTimeMs: BLOCK_MS,
    subnets: [{ netuid: NETUID, tempo: 9, weightsRateLimit: 5, commitRevealEnabled: true, revealPeriodEpochs: 1, servingRateLimit: 0 }],
  });
  const admin = await chainFor(chainStore);
  const cold = Object.fromEntries(
    await Promise.all(
      ['validator', 'honest', 'cheater', 'dancer'].map(
        async (name) => [name, (await loadHotkey({ uri: `//E2ECold/${name}` })).ss58] as const,
      ),
    ),
  );
  dancerColdkey = cold.dancer!;
  await admin.ledger.registerNeuron({ netuid: NETUID, hotkey: v.ss58, coldkey: cold.validator!, stake: 100_000, validatorPermit: true });
  await admin.ledger.registerNeuron({ netuid: NETUID, hotkey: h.ss58, coldkey: cold.honest! });
  await admin.ledger.registerNeuron({ netuid: NETUID, hotkey: c.ss58, coldkey: cold.cheater! });
  await admin.ledger.registerNeuron({ netuid: NETUID, hotkey: d1.ss58, coldkey: dancerColdkey });
  await admin.ledger.registerNeuron({ netuid: NETUID, hotkey: d2.ss58, coldkey: dancerColdkey });

  objectStore = new S3ObjectStore(s3Config(uniqueBucketName('validator-e2e')));
  await objectStore.ensureBucket();

  const trusted = await startMinerFor(
    chainStore,
    'trusted',
    [t],
    local(LLM, 1),
    { [LLM_IMAGE]: ['node', SOLVE] },
    { localModeValidator: v.ss58 },
  );
  await startMinerFor(chainStore, 'honest', [h], new PerClassManager({ [TEST]: local(TEST, 2), [LLM]: local(LLM, 1) }), {
    [HASH_IMAGE]: ['node', CRACK],
    [LLM_IMAGE]: ['node', SOLVE],
  });
  await startMinerFor(chainStore, 'cheater', [c], local(TEST, 2), { [HASH_IMAGE]: ['node', CHEAT] });
  await startMinerFor(chainStore, 'dancer', [d1, d2], local(TEST, 2), { [HASH_IMAGE]: ['node', CRACK] }, { dancing: true });

  const rulesConfig = scoringClassicConfig.parse({ classWeights: { [TEST]: 1, [LLM]: 1 } });
  validator = await createValidator({
    hotkey: v,
    chain: await chainFor(chainStore, v),
    store: await store('validator'),
    netuid: NETUID,
    settings: validatorSection.parse({
      cycleLengthBlocks: CYCLE_BLOCKS,
      batchOffsetBlocks: 2,
      manifestTimeoutSeconds: 5,
      mainHotkeyTimeoutSeconds: 3,
      jobResponseSlackSeconds: 15,
      trustedMiner: { address: '127.0.0.1', port: trusted.port, hotkey: t.ss58 },
      weights: { retryDelaySeconds: 1, revealEveryBlocks: 2 },
    }),
    generators: [
      new HashCrackGenerator(),
      new LlmPromptsGenerator({
        objectStore,
        logger,
        executorClasses: [LLM],
        seriesPerCycle: 1,
        promptsPerSeries: 20,
        samplesPerSeries: 2,
        timeLimitSeconds: 30,
      }),
    ],
    hardwareClasses: HARDWARE,
    scoringRules: CLASSIC_RULES.map((name) => classicRule(name, rulesConfig)),
    logger: logger.child({ role: 'validator' }),
    clock,
  });
  validator.on('cycle-scored', ({ cycle, result }) => scored.set(cycle, result));
  validator.on('weights-set', ({ cycle, result }) => weightsSet.set(cycle, result));
}, 60_000);

afterAll(async () => {
  await validator?.close();
  for (const miner of miners) await miner.close().catch(() => undefined);
  for (const chain of chains) await chain.close().catch(() => undefined);
  for (const opened of stores) await opened.close().catch(() => undefined);
  if (objectStore) for (const key of await objectStore.list('')) await objectStore.delete(key);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('validator over two cycles', () => {
  it('tests every miner, pays the honest ones, zeroes the cheater, gives the dancer its bonus and lands weights by commit-reveal', async () => {
    const first = (await waitFor('the first cycle to be scored', () => [...scored.keys()].sort()[0], 90_000)) as number;
    const second = first + 1;
    const [w0, w1] = [
      await waitFor('weights of the first cycle', () => (weightsSet.has(first) ? weightsSet.get(first) : undefined), 60_000),
      await waitFor('weights of the second cycle', () => (weightsSet.has(second) ? weightsSet.get(second) : undefined), 90_000),
    ];
    expect(w0?.status).toBe('committed');
    expect(w1?.status).toBe('committed');

    const jobsOf = async (cycle: number) =>
      (await validator.store.jobOutcomes(cycle)).map((job) => ({
        miner: job.minerHotkey,
        cls: job.executorClass,
        status: job.status,
        correct: job.correct,
        inTime: job.inTime,
      }));
    for (const cycle of [first, second]) {
      const jobs = await jobsOf(cycle);
      // The honest miner: 2 hash-crack jobs and 1 LLM job, all correct and in time.
      expect(jobs.filter((j) => j.miner === keys.honest.ss58)).toEqual(
        expect.arrayContaining([
          { miner: keys.honest.ss58, cls: TEST, status: 'completed', correct: true, inTime: true },
          { miner: keys.honest.ss58, cls: LLM, status: 'completed', correct: true, inTime: true },
        ]),
      );
      expect(jobs.filter((j) => j.miner === keys.honest.ss58)).toHaveLength(3);
      // The cheater answered every job, wrongly.
      expect(jobs.filter((j) => j.miner === keys.cheater.ss58)).toEqual([
        { miner: keys.cheater.ss58, cls: TEST, status: 'completed', correct: false, inTime: true },
        { miner: keys.cheater.ss58, cls: TEST, status: 'completed', correct: false, inTime: true },
      ]);
    }
    // The dancer's horde sits under its main hotkey, which moves each cycle (rotate-main).
    const dancerJobs = async (cycle: number) =>
      (await jobsOf(cycle)).filter((j) => j.miner === keys.dancer1.ss58 || j.miner === keys.dancer2.ss58);
    const [d0, d1] = [await dancerJobs(first), await dancerJobs(second)];
    expect(d0).toHaveLength(2);
    expect(d1).toHaveLength(2);
    expect(d0.every((j) => j.correct === true)).toBe(true);
    expect(d1.every((j) => j.correct === true)).toBe(true);
    expect(d0[0]!.miner).not.toBe(d1[0]!.miner);
    const mains = [await validator.store.mainHotkeys(first), await validator.store.mainHotkeys(second)];
    expect(mains[0]!.get(dancerColdkey)).not.toBe(mains[1]!.get(dancerColdkey));

    // Scores of the second cycle, from the pipeline's steps: the cheater earned nothing at any step.
    const result = scored.get(second)!;
    const after = (rule: string, hotkey: string) =>
      Object.values(result.steps.find((step) => step.rule === rule)!.table[hotkey] ?? {}).reduce((sum, points) => sum + points, 0);
    expect(after('synthetic-jobs', keys.cheater.ss58)).toBe(0);
    expect(after('synthetic-jobs', keys.honest.ss58)).toBe(3);
    // Dancing: the dancer's 2 points grew by 30 % and 80 % of them went to the new main hotkey.
    const main = mains[1]!.get(dancerColdkey)!;
    const other = main === keys.dancer1.ss58 ? keys.dancer2.ss58 : keys.dancer1.ss58;
    expect(after('dancing-bonus', main)).toBeCloseTo(2.08, 9);
    expect(after('dancing-bonus', other)).toBeCloseTo(0.52, 9);
    expect(after('dancing-bonus', keys.honest.ss58)).toBe(3); // one hotkey, no dance
    // Final weights (test class: honest 2, dancer 2.6 → 4.6; LLM class: honest alone; each class weight 1, halved by normalising).
    const weightOf = (hotkey: string) => result.weights.find((w) => w.hotkey === hotkey)?.weight ?? 0;
    expect(weightOf(keys.honest.ss58)).toBeCloseTo((2 / 4.6 + 1) / 2, 9);
    expect(weightOf(main)).toBeCloseTo(2.08 / 4.6 / 2, 9);
    expect(weightOf(other)).toBeCloseTo(0.52 / 4.6 / 2, 9);
    expect(weightOf(keys.cheater.ss58)).toBe(0);
    // In the first cycle no previous main hotkey was known: no bonus, the dancer got 2 / 4 of the test class.
    const firstResult = scored.get(first)!;
    const firstDancer = firstResult.weights
      .filter((w) => w.hotkey === keys.dancer1.ss58 || w.hotkey === keys.dancer2.ss58)
      .reduce((s, w) => s + w.weight, 0);
    expect(firstDancer).toBeCloseTo(0.25, 9);

    // The reveal lands the second cycle's weights on the LocalChain (u16-quantised).
    const chain = chains.find((c) => c.hotkey === keys.validator.ss58)!;
    const metagraph = await chain.metagraph(NETUID);
    const uidOf = (hotkey: string) => metagraph.neurons.find((n) => n.hotkey === hotkey)!.uid;
    const onChain = await waitFor(
      'the revealed weights of the second cycle',
      async () => {
        const row = (await chain.weights(NETUID)).get(uidOf(keys.validator.ss58));
        const honest = row?.find((entry) => entry.uid === uidOf(keys.honest.ss58))?.weight;
        return honest !== undefined && Math.abs(honest - weightOf(keys.honest.ss58)) < 0.01 ? row : undefined;
      },
      60_000,
    );
    const onChainWeight = (hotkey: string) => onChain.find((entry) => entry.uid === uidOf(hotkey))?.weight ?? 0;
    expect(onChainWeight(main)).toBeCloseTo(weightOf(main), 2);
    expect(onChainWeight(keys.cheater.ss58)).toBe(0);
    const records = await validator.store.weights(second);
    expect(records.at(-1)).toMatchObject({ status: 'committed', attempts: 1 });

    // `horde validator scores` prints the breakdown from the validator's store.
    const configFile = join(dataDir, 'horde.config.json');
    writeFileSync(
      configFile,
      JSON.stringify({ hotkey: '//E2EValidator', store: { client: 'sqlite', filename: join(dataDir, 'validator.sqlite') }, plugins: [] }),
    );
    const { stdout } = await promisify(execFile)('node', [CLI, 'validator', 'scores', '--config', configFile, '--cycle', String(second)]);
    expect(stdout).toContain(`Cycle ${second}`);
    expect(stdout).toMatch(/SYNTHETIC-JOBS\s+ORGANIC-JOBS\s+EXCUSED-REJECTIONS\s+DANCING-BONUS\s+CLASS-WEIGHTS\s+WEIGHT/);
    expect(stdout).toMatch(/2\.08 \(\+0\.08\)/); // the dancer's main hotkey: 2 points, +0.08 from the dance and the 80 % share
    expect(stdout).toMatch(/Weights: committed at block \d+ \(reveal due at block \d+\), attempt 1\./);
  }, 240_000);
});
