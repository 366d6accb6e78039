/**
 * One GPU, one credit, in worker mode: the batch is split into queue tasks of one miner each
 * (`minersPerTask: 1`), so two miners of different coldkeys that report the same GPU UUID land in
 * different tasks and no task sees both. The leader's check over the whole batch must still give
 * neither of them credit, and leave a miner with its own card alone. The batch's `batch-started`
 * event reports the jobs its tasks planned, as a single-process validator's does.
 *
 * Real PostgreSQL (the pool's store and pg-boss), a LocalChain in the same database, real
 * SimulatedMiners over websockets.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgDatabase, type TestDatabase } from '../../../../test/support/services.js';
import { LocalChain } from '../../chain/local/local-chain.js';
import { validatorSection } from '../../config/sections/validator.js';
import type { GeneratedJob, HardwareClass, JobGenerator, Store } from '../../contracts/index.js';
import { loadHotkey, type Hotkey } from '../../keys/index.js';
import { openStore } from '../../store/index.js';
import { SimulatedMiner } from '../../testkit/index.js';
import { SystemClock } from '../../time/clock.js';
import { createValidator, type ValidatorHandle } from '../service.js';
import type { BatchResult } from '../batch.js';
import { refuseSharedGpusAcrossTasks } from './batch-gpu-check.js';
import { ValidatorWorkerPool } from './pool.js';

const NETUID = 12;
const logger = pino({ level: process.env['HORDE_TEST_LOG_LEVEL'] ?? 'silent' });
const TEST_CLASS: HardwareClass = {
  id: 'always_on.test',
  description: 'test machine',
  spinUpSeconds: 0,
  shortCode: 'T',
  resources: {},
  dockerPreset: 'none',
  proof: { jobGenerators: ['answer'], maxJobSeconds: 10 },
};
const answer: JobGenerator = {
  name: 'answer',
  supports: () => true,
  async generate(request): Promise<GeneratedJob> {
    return {
      description: 'answer',
      spec: {
        executorClass: request.executorClass.id,
        image: 'answer',
        command: [],
        env: {},
        dockerRunOptionsPreset: 'none',
        timing: {
          allowedLeewaySeconds: 1,
          downloadTimeLimitSeconds: 2,
          executionTimeLimitSeconds: 2,
          uploadTimeLimitSeconds: 2,
          streamingStartTimeLimitSeconds: 0,
        },
      },
      verify: async (result) => ({ correct: result.stdout.trim() === 'answer', inTime: true, details: 'answered' }),
    };
  },
};
const specs = (uuid: string) => ({
  gpu: {
    count: 1,
    details: [{ name: 'NVIDIA RTX A6000', driver: '550', capacity: '49140', cuda: '8.6', uuid }],
  },
});

let db: TestDatabase;
let store: Store;
let validatorKey: Hotkey;
let chain: LocalChain;
let pool: ValidatorWorkerPool | null = null;
let validator: ValidatorHandle | null = null;
const miners: Array<{ miner: SimulatedMiner; coldkey: string }> = [];

beforeAll(async () => {
  db = await pgDatabase('horde_wgaps_gpu');
  store = await openStore({ client: 'postgres', url: db.url });
  validatorKey = await loadHotkey({ uri: '//WgapsGpuValidator' });
  await LocalChain.init(store, {
    blockTimeMs: 200,
    subnets: [{ netuid: NETUID, tempo: 9, servingRateLimit: 0, weightsRateLimit: 0, commitRevealEnabled: false }],
  });
  const admin = await LocalChain.open({ store, netuid: NETUID });
  await admin.ledger.registerNeuron({
    netuid: NETUID,
    hotkey: validatorKey.ss58,
    coldkey: validatorKey.ss58,
    stake: 60_000,
    validatorPermit: true,
  });
  // The first two share a card under different coldkeys; the third has its own.
  for (const [name, coldkey, uuid] of [
    ['Holder', 'coldkey-holder', 'GPU-shared'],
    ['Copier', 'coldkey-copier', 'GPU-shared'],
    ['Own', 'coldkey-own', 'GPU-own'],
  ] as const) {
    const hotkey = await loadHotkey({ uri: `//WgapsGpu${name}` });
    const coldkeyKey = await loadHotkey({ uri: `//WgapsGpu${coldkey}` });
    const miner = await SimulatedMiner.start({
      hotkey,
      manifest: { [TEST_CLASS.id]: 1 },
      execute: () => ({ stdout: 'answer\n', machineSpecs: specs(uuid) }),
    });
    miners.push({ miner, coldkey: coldkeyKey.ss58 });
    await admin.ledger.registerNeuron({ netuid: NETUID, hotkey: hotkey.ss58, coldkey: coldkeyKey.ss58 });
    const own = await LocalChain.open({ store, netuid: NETUID, hotkey: hotkey.ss58 });
    await own.serveAxon(NETUID, { ip: '127.0.0.1', port: miner.port, protocol: 4, version: 0 });
    await own.close();
  }
  await admin.close();
  chain = await LocalChain.open({ store, netuid: NETUID, hotkey: validatorKey.ss58 });
}, 60_000);

afterAll(async () => {
  await validator?.close();
  await pool?.close();
  await Promise.all(miners.map(({ miner }) => miner.close()));
  await chain?.close();
  await store?.close();
  await db?.drop();
});

describe('validator workers: one GPU, one credit across the tasks of a batch', () => {
  it('gives no credit to two coldkeys serving one GPU UUID from different tasks', async () => {
    const settings = validatorSection.parse({
      cycleLengthBlocks: 60,
      batchOffsetBlocks: 1,
      jobResponseSlackSeconds: 5,
      receiptTransfer: { enabled: false },
      workers: { enabled: true, minersPerTask: 1, tasksPerWorker: 4, pollSeconds: 0.5 },
    });
    const clock = new SystemClock();
    pool = await ValidatorWorkerPool.open({
      store,
      url: db.url,
      validatorHotkey: validatorKey.ss58,
      settings: settings.workers,
      logger,
      clock,
    });
    validator = await createValidator({
      hotkey: validatorKey,
      chain,
      store,
      netuid: NETUID,
      settings,
      generators: [answer],
      hardwareClasses: [TEST_CLASS],
      scoringRules: [],
      logger,
      clock,
      workers: pool,
    });
    const started: Array<{ cycle: number; miners: number; jobs: number }> = [];
    validator.on('batch-started', (event) => started.push(event));
    const finished = await new Promise<Omit<BatchResult, 'records'>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no batch finished within 45 s')), 45_000);
      validator!.once('batch-finished', (summary) => {
        clearTimeout(timer);
        resolve(summary);
      });
    });
    expect(finished.jobs).toBe(3);
    // batch-started counts the jobs the tasks planned (three tasks of one job each), not 0.
    expect(started.find((event) => event.cycle === finished.cycle)).toEqual({ cycle: finished.cycle, miners: 3, jobs: 3 });
    const stored = await validator.store.jobDetails(finished.cycle);
    const of = (index: number) => stored.find((job) => job.minerHotkey === miners[index]!.miner.hotkey);
    expect(of(0)).toMatchObject({ status: 'completed', correct: false });
    expect(of(1)).toMatchObject({ status: 'completed', correct: false });
    expect(of(0)!.details).toBe(
      `GPU GPU-shared also served this cycle by ${miners[1]!.miner.hotkey} (another coldkey): no credit; answered`,
    );
    expect(of(1)!.details).toBe(
      `GPU GPU-shared also served this cycle by ${miners[0]!.miner.hotkey} (another coldkey): no credit; answered`,
    );
    expect(of(2)).toMatchObject({ status: 'completed', correct: true, details: 'answered' });
    // A new leader resuming the batch checks again: nothing is refused twice.
    const targets = miners.map(({ miner, coldkey }, uid) => ({
      hotkey: miner.hotkey,
      coldkey,
      uid: uid + 1,
      host: '127.0.0.1',
      port: miner.port,
    }));
    expect(await refuseSharedGpusAcrossTasks(validator.store, finished.cycle, targets, logger)).toBe(0);
    expect(await validator.store.jobDetails(finished.cycle)).toEqual(expect.arrayContaining(stored));
  }, 90_000);
});
