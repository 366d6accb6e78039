/**
 * The validator's spec cross-check end to end: a real miner runs real `horde executor` processes
 * (the local executor manager, the process runner) whose PATH starts with a stand-in `nvidia-smi`
 * reporting whatever card the test writes. An executor declared as an H100 that reports an RTX
 * 3090 is failed with a spec mismatch, however right its answer; the same executor reporting an
 * H100 passes. The job is the real hash-crack job, solved by the real crack script.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HardwareClass, Store } from '../../core/src/contracts/index.js';
import { silentLogger } from '../../core/src/logging/index.js';
import { SystemClock } from '../../core/src/time/clock.js';
import { openStore } from '../../core/src/store/index.js';
import { runBatch } from '../../core/src/validator/batch.js';
import { cycleByIndex } from '../../core/src/validator/cycles.js';
import { ValidatorStore } from '../../core/src/validator/store.js';
import { LocalExecutorManager } from '../../executor-managers/local/src/local-executor-manager.js';
import { HARDWARE_CLASSES } from '../../plugins/hardware-classes/src/classes.js';
import { HashCrackGenerator } from '../../plugins/job-hash-crack/src/generator.js';
import { startTestMiner, type TestMiner } from '../support/miner-harness.js';

const H100_ID = 'always_on.gpu.h100-80gb';
const CRACK = fileURLToPath(new URL('../../plugins/job-hash-crack/job/crack.mjs', import.meta.url));
// The shipped class, spun up in 1 s so the test does not wait 30 s at the batch's barrier.
const H100: HardwareClass = { ...HARDWARE_CLASSES.find((c) => c.id === H100_ID)!, spinUpSeconds: 1 };
const IMAGE = 'horde/job-hash-crack:1-gpu';
const CLI = fileURLToPath(new URL('../../core/bin/horde.js', import.meta.url));

const fakeBin = mkdtempSync(join(tmpdir(), 'horde-fake-nvidia-smi-'));
const originalPath = process.env['PATH'];
let miner: TestMiner;
let store: Store;

/** What the stand-in nvidia-smi prints for `--query-gpu=…,uuid,serial --format=csv,noheader,nounits`. */
function reportCard(csvLine: string): void {
  writeFileSync(join(fakeBin, 'gpus.csv'), `${csvLine}\n`);
}

beforeAll(async () => {
  writeFileSync(join(fakeBin, 'nvidia-smi'), '#!/bin/sh\ncat "$(dirname "$0")/gpus.csv"\n');
  chmodSync(join(fakeBin, 'nvidia-smi'), 0o755);
  // Executor agents inherit the miner's environment: theirs finds the stand-in first.
  process.env['PATH'] = `${fakeBin}:${originalPath ?? ''}`;
  miner = await startTestMiner({
    dialect: 'sqlite',
    runner: 'process',
    processImages: { [IMAGE]: ['node', CRACK] },
    executor: { machineSpecs: true, startupChecks: [] },
    manager: (logger) => new LocalExecutorManager({ executorClass: H100_ID, executors: 1, killGraceMs: 3_000, logger }),
  });
  store = await openStore({ client: 'sqlite', filename: join(fakeBin, 'validator.sqlite') });
}, 60_000);

afterAll(async () => {
  process.env['PATH'] = originalPath;
  await miner?.close();
  await store?.close();
  rmSync(fakeBin, { recursive: true, force: true });
});

async function batch(cycle: number) {
  const validatorStore = new ValidatorStore(store, miner.validatorA.ss58);
  const port = Number(new URL(miner.url).port);
  // A tiny challenge: what is under test is the spec check, not the card's speed.
  const generator = new HashCrackGenerator({
    classes: {
      [H100_ID]: { algorithms: ['sha256'], alphabet: 'abcdefgh', length: 3, hashesPerBatch: 2, timeLimitSeconds: 20, image: IMAGE },
    },
  });
  await runBatch(cycleByIndex(cycle, 100), [{ hotkey: miner.minerHotkey.ss58, coldkey: 'c-1', uid: 1, host: '127.0.0.1', port }], {
    validator: miner.validatorA,
    clock: new SystemClock(),
    logger: silentLogger(),
    store: validatorStore,
    generators: [generator],
    hardwareClasses: [H100],
    settings: {
      limits: { reservationMs: 5_000, startupMs: 15_000, slackMs: 5_000 },
      manifestTimeoutMs: 5_000,
      mainHotkeyTimeoutMs: 2_000,
      connectConcurrency: 4,
      generateConcurrency: 4,
      verifyConcurrency: 4,
      maxExecutorsPerClass: 0,
    },
  });
  const [outcome] = await validatorStore.jobOutcomes(cycle);
  const [details] = await validatorStore.jobDetails(cycle);
  return { outcome: outcome!, details: details!.details };
}

describe('spec cross-check with a stand-in nvidia-smi', () => {
  it(
    'fails an executor declared as an H100 whose nvidia-smi reports an RTX 3090, though its answer is right',
    { timeout: 60_000 },
    async () => {
      reportCard('NVIDIA GeForce RTX 3090, 550.54.15, 24576, 8.6, 350.00, 210, 405, GPU-5a3c0b4e-0000-0000-0000-000000003090, 0');
      const { outcome, details } = await batch(1);
      expect(outcome).toMatchObject({ status: 'completed', correct: false, inTime: true });
      expect(details).toMatch(
        /^spec mismatch: always_on\.gpu\.h100-80gb needs 1 GPU\(s\), 0 of 1 reported qualify; GPU "NVIDIA GeForce RTX 3090" is not one of H100/,
      );
      expect(details).toMatch(/answer correct/);

      // The operator sees why: `horde validator scores` lists the job with its reason.
      const configFile = join(fakeBin, 'validator.json');
      // The harness's validatorA is //Bob.
      writeFileSync(
        configFile,
        JSON.stringify({ hotkey: '//Bob', store: { client: 'sqlite', filename: join(fakeBin, 'validator.sqlite') }, plugins: [] }),
      );
      const { stdout } = await promisify(execFile)('node', [CLI, 'validator', 'scores', '--config', configFile, '--cycle', '1']);
      expect(stdout).toContain('Jobs counted as wrong (1):');
      expect(stdout).toMatch(/always_on\.gpu\.h100-80gb\s+spec mismatch: always_on\.gpu\.h100-80gb needs 1 GPU\(s\)/);
    },
  );

  it('passes the same executor when its nvidia-smi reports an H100 80GB', { timeout: 60_000 }, async () => {
    reportCard('NVIDIA H100 80GB HBM3, 550.54.15, 81559, 9.0, 700.00, 1980, 2619, GPU-5a3c0b4e-0000-0000-0000-000000000100, 1650923012345');
    const { outcome, details } = await batch(2);
    expect(outcome).toMatchObject({ status: 'completed', correct: true, inTime: true });
    expect(details).toMatch(/^answer correct/);
  });
});
