import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GeneratedJob, HardwareClass, JobGenerator, Store } from '../contracts/index.js';
import type { Hotkey } from '../keys/index.js';
import { SystemClock } from '../time/clock.js';
import { openStore } from '../store/index.js';
import { SimulatedMiner, testHotkey } from '../testkit/index.js';
import { runBatch, type BatchSettings } from './batch.js';
import { cycleByIndex } from './cycles.js';
import type { MinerTarget } from './miner-client.js';
import { ValidatorStore } from './store.js';

const logger = pino({ level: 'silent' });
const A6000: HardwareClass = {
  id: 'always_on.llm.a6000',
  description: 'A6000',
  spinUpSeconds: 0,
  shortCode: 'L',
  resources: { gpu: { count: 1, vramGb: 48, models: ['RTX A6000'] } },
  dockerPreset: 'nvidia_all',
  proof: { jobGenerators: ['echo'], maxJobSeconds: 10 },
};
const echo: JobGenerator = {
  name: 'echo',
  supports: () => true,
  async generate(request): Promise<GeneratedJob> {
    return {
      description: 'echo',
      spec: {
        executorClass: request.executorClass.id,
        image: 'echo',
        command: ['--key', 'answer'],
        env: {},
        dockerRunOptionsPreset: 'nvidia_all',
        timing: {
          allowedLeewaySeconds: 1,
          downloadTimeLimitSeconds: 1,
          executionTimeLimitSeconds: 2,
          uploadTimeLimitSeconds: 1,
          streamingStartTimeLimitSeconds: 0,
        },
      },
      verify: async (result) => ({ correct: result.stdout.trim() === 'answer', inTime: true, details: 'echoed' }),
    };
  },
};
const settings: BatchSettings = {
  limits: { reservationMs: 2000, startupMs: 2000, slackMs: 1000 },
  manifestTimeoutMs: 2000,
  mainHotkeyTimeoutMs: 1000,
  connectConcurrency: 8,
  generateConcurrency: 8,
  verifyConcurrency: 4,
  maxExecutorsPerClass: 0,
};
/** What an A6000 executor's nvidia-smi reports, with the card's UUID. */
const a6000Specs = (uuid: string, name = 'NVIDIA RTX A6000', capacity = '49140') => ({
  gpu: {
    count: 1,
    details: [
      {
        name,
        driver: '550.54.15',
        capacity,
        cuda: '8.6',
        power_limit: '300',
        graphics_speed: '210',
        memory_speed: '405',
        uuid,
        serial: '1',
      },
    ],
  },
  cpu: { count: 16, model: 'x', clocks: [] },
  ram: { total: 64 * 1024 * 1024 },
});

let validator: Hotkey;
let store: Store;
const miners: SimulatedMiner[] = [];
beforeAll(async () => {
  validator = await testHotkey('//GpuRegistryValidator');
  store = await openStore({ client: 'sqlite', filename: ':memory:' });
});
afterEach(async () => {
  for (const miner of miners.splice(0)) await miner.close();
});
afterAll(() => store.close());

async function miner(uri: string, specs: Record<string, unknown>): Promise<SimulatedMiner> {
  const started = await SimulatedMiner.start({
    hotkey: await testHotkey(uri),
    manifest: { [A6000.id]: 1 },
    execute: () => ({ stdout: 'answer\n', machineSpecs: specs }),
  });
  miners.push(started);
  return started;
}
const target = (m: SimulatedMiner, coldkey: string): MinerTarget => ({
  hotkey: m.hotkey,
  coldkey,
  uid: 1,
  host: '127.0.0.1',
  port: m.port,
});

async function batch(cycle: number, targets: MinerTarget[]) {
  const validatorStore = new ValidatorStore(store, validator.ss58);
  const result = await runBatch(cycleByIndex(cycle, 100), targets, {
    validator,
    clock: new SystemClock(),
    logger,
    store: validatorStore,
    generators: [echo],
    hardwareClasses: [A6000],
    settings,
  });
  const stored = await validatorStore.jobOutcomes(cycle);
  const details = await validatorStore.jobDetails(cycle);
  return { result, stored, details };
}

describe('the validator checks reported specs and counts one GPU once per cycle', () => {
  it('fails a job whose executor reports another card than its class, with the reason stored', async () => {
    const honest = await miner('//SpecHonest', a6000Specs('GPU-honest'));
    const liar = await miner('//SpecLiar', a6000Specs('GPU-3090', 'NVIDIA GeForce RTX 3090', '24576'));
    const { stored, details } = await batch(1, [target(honest, 'c-1'), target(liar, 'c-2')]);
    expect(stored.find((job) => job.minerHotkey === honest.hotkey)).toMatchObject({ status: 'completed', correct: true });
    expect(stored.find((job) => job.minerHotkey === liar.hotkey)).toMatchObject({ status: 'completed', correct: false });
    expect(details.find((job) => job.minerHotkey === liar.hotkey)?.details).toMatch(
      /^spec mismatch: always_on.llm.a6000 needs 1 GPU\(s\), 0 of 1 reported qualify; GPU "NVIDIA GeForce RTX 3090" is not one of RTX A6000/,
    );
  });

  it('gives no credit for a GPU UUID served by miners of two coldkeys, and allows it within one coldkey', async () => {
    const first = await miner('//GpuFirst', a6000Specs('GPU-shared'));
    const copier = await miner('//GpuCopier', a6000Specs('GPU-shared'));
    const dancer1 = await miner('//GpuDancer1', a6000Specs('GPU-dance'));
    const dancer2 = await miner('//GpuDancer2', a6000Specs('GPU-dance'));
    const { stored, details } = await batch(2, [
      target(first, 'c-first'),
      target(copier, 'c-copier'),
      target(dancer1, 'c-dancer'),
      target(dancer2, 'c-dancer'),
    ]);
    const outcome = (m: SimulatedMiner) => stored.find((job) => job.minerHotkey === m.hotkey);
    expect(outcome(first)).toMatchObject({ correct: false });
    expect(outcome(copier)).toMatchObject({ correct: false });
    expect(details.find((job) => job.minerHotkey === first.hotkey)?.details).toBe(
      `GPU GPU-shared also served this cycle by ${copier.hotkey} (another coldkey): no credit; echoed`,
    );
    expect(outcome(dancer1)).toMatchObject({ correct: true });
    expect(outcome(dancer2)).toMatchObject({ correct: true });
  });

  it('starts every cycle with an empty registry', async () => {
    const first = await miner('//GpuNextCycle', a6000Specs('GPU-shared'));
    const { stored } = await batch(3, [target(first, 'c-first')]);
    expect(stored[0]).toMatchObject({ correct: true });
  });
});
