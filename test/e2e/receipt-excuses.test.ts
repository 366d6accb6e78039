/**
 * Excuses that cover a whole organic job, end to end: validator A runs a long organic job on a
 * miner's only executor; validator B's synthetic batch is declined `busy` with excuses long after
 * A's started receipt (7 s) ran out; B pulls A's receipts from the miner's receipt pages over HTTP
 * and scores the excused point. Real miner (store, HTTP server, `horde executor` processes), real
 * validator B (batch, receipt transfer, scoring-classic), LocalChain on the miner's store, real
 * sr25519 keys; SQLite and PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalChain } from '../../core/src/chain/local/local-chain.js';
import { validatorSection } from '../../core/src/config/sections/validator.js';
import type { Store } from '../../core/src/contracts/index.js';
import { silentLogger } from '../../core/src/logging/index.js';
import { SystemClock } from '../../core/src/time/clock.js';
import { openStore } from '../../core/src/store/index.js';
import { toJsonColumn } from '../../core/src/store/json.js';
import { createValidator, type ValidatorHandle } from '../../core/src/validator/index.js';
import { HARDWARE_CLASSES } from '../../plugins/hardware-classes/src/classes.js';
import { HashCrackGenerator } from '../../plugins/job-hash-crack/src/generator.js';
import { CLASSIC_RULES, classicRule, scoringClassicConfig } from '../../plugins/scoring-classic/src/index.js';
import { NETUID, startTestMiner, TEST_CLASS, type TestMiner } from '../support/miner-harness.js';
import { pgDatabase, type TestDatabase } from '../support/services.js';
import { TestValidator } from '../support/test-validator.js';

const LONG_IMAGE = 'horde/long-organic:1';
const TIMING = {
  allowed_leeway: 5,
  download_time_limit: 10,
  execution_time_limit: 60,
  upload_time_limit: 10,
  streaming_start_time_limit: 5,
};

describe.each(['sqlite', 'postgres'] as const)('a long organic job excuses declines for its whole span (%s)', (dialect) => {
  let env: TestMiner;
  let validatorA: TestValidator;
  let b: ValidatorHandle;
  let bStore: Store;
  let bDatabase: TestDatabase | undefined;
  let bChain: LocalChain;

  beforeAll(async () => {
    env = await startTestMiner({ dialect, runner: 'process', executors: 1, processImages: { [LONG_IMAGE]: ['sleep'] } });
    await env.chain.serveAxon(NETUID, { ip: '127.0.0.1', port: env.miner.port, protocol: 4, version: 1 });
    if (dialect === 'postgres') {
      bDatabase = await pgDatabase('horde_validator_b');
      bStore = await openStore({ client: 'postgres', url: bDatabase.url });
    } else {
      bStore = await openStore({ client: 'sqlite', filename: ':memory:' });
    }
    bChain = await LocalChain.open({ store: env.store, hotkey: env.validatorB.ss58, netuid: NETUID });
    // The test validators have 5,000 stake: the excuse bar is set below it.
    const rules = scoringClassicConfig.parse({ classWeights: { [TEST_CLASS]: 1 }, excuseMinimumValidatorStake: 1_000 });
    b = await createValidator({
      hotkey: env.validatorB,
      chain: bChain,
      store: bStore,
      netuid: NETUID,
      settings: validatorSection.parse({
        manifestTimeoutSeconds: 5,
        mainHotkeyTimeoutSeconds: 2,
        jobResponseSlackSeconds: 5,
        receiptTransfer: { verifyThreads: 0 },
      }),
      generators: [new HashCrackGenerator()],
      hardwareClasses: HARDWARE_CLASSES.filter((c) => c.id === TEST_CLASS),
      scoringRules: CLASSIC_RULES.map((name) => classicRule(name, rules)),
      logger: silentLogger(),
      clock: new SystemClock(),
      autoRun: false,
    });
  }, 60_000);
  afterAll(async () => {
    await validatorA?.close().catch(() => undefined);
    await b?.close();
    await bChain?.close();
    await bStore?.close();
    await bDatabase?.drop();
    await env?.close();
  });

  it("B's declined job is excused by A's receipts, which B transferred from the miner", async () => {
    // Validator A: a 40 s organic job on the miner's only executor, reserved for its whole span.
    validatorA = await TestValidator.connect({ url: env.url, validator: env.validatorA, minerHotkey: env.minerHotkey.ss58 });
    await validatorA.expect('V0ExecutorManifestRequest');
    const { jobUuid: organicJob } = await validatorA.initialJobRequest({
      executor_class: TEST_CLASS,
      docker_image: LONG_IMAGE,
      executor_timing: TIMING,
      job_uuid: randomUUID(),
    });
    await validatorA.expect('V0AcceptJobRequest', organicJob, 7_000);
    await validatorA.acceptedReceipt(organicJob, 600);
    await validatorA.expect('V0ExecutorReadyRequest', organicJob, 30_000);
    await validatorA.jobRequest({
      job_uuid: organicJob,
      executor_class: TEST_CLASS,
      docker_image: LONG_IMAGE,
      docker_run_options_preset: 'none',
      docker_run_cmd: ['40'],
      env: {},
      volume: null,
      output_upload: null,
      artifacts_dir: null,
    });
    await validatorA.expect('V0VolumesReadyRequest', organicJob, 20_000);

    // Past A's started receipt's 7 s + 2 s leeway: only the accepted receipt still covers the job.
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const batch = await b.runBatch();
    const [declined] = await b.store.jobOutcomes(batch.cycle);
    expect(declined).toMatchObject({ minerHotkey: env.minerHotkey.ss58, status: 'rejected', rejection: { reason: 'busy' } });
    // The miner attached A's started receipt and the accepted receipt that covers it.
    expect(declined!.rejection!.receipts.map((r) => [r.payload.job_uuid, r.payload.receipt_type])).toEqual([
      [organicJob, 'JobStartedReceipt'],
      [organicJob, 'JobAcceptedReceipt'],
    ]);

    // B pulls the miner's receipt pages: A's receipts arrive, verified.
    const stats = await b.receiptTransfer!.catchUp();
    expect(stats.refused).toBe(0);
    const transferred = await b.transferredReceipts.inWindow({ fromMs: 0, toMs: Date.now() });
    expect(transferred.organicStarted.map((r) => r.payload.job_uuid)).toContain(organicJob);
    expect(transferred.accepted.map((r) => r.payload.job_uuid)).toContain(organicJob);

    const excused = async () => {
      const result = await b.scoreCycle(batch.cycle);
      return result.steps.find((step) => step.rule === 'excused-rejections')!.table[env.minerHotkey.ss58]?.[TEST_CLASS];
    };
    expect(await excused()).toBe(1);

    // A ComputeHorde miner attaches only the started receipt: the transferred accepted receipt
    // still proves the executor busy...
    const startedOnly = declined!.rejection!.receipts.filter((r) => r.payload.receipt_type === 'JobStartedReceipt');
    await bStore
      .db('validator_jobs')
      .where({ job_uuid: declined!.jobUuid })
      .update({ rejection_receipts: toJsonColumn(startedOnly) });
    expect(await excused()).toBe(1);
    // ...and without the transferred receipts the decline is not excused (the started receipt expired).
    await bStore.db('validator_transferred_receipts').delete();
    expect(await excused()).toBe(0);
  }, 120_000);
});
