/**
 * A batch over a real miner whose executors are faster than their class's spin-up: the slow class's
 * initial requests go out first (so every class is due ready together), its `horde executor`
 * processes report ready within a second, and then wait at the batch's barrier until the fast
 * class is ready too. The executors count their leeway and download limit from the moment they
 * report ready, so the validator must give them a leeway that covers that wait, or every job of
 * the slow class fails in volume_download before its job request arrives.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ExecutorHandle,
  ExecutorManager,
  ExecutorStartContext,
  GeneratedJob,
  HardwareClass,
  JobGenerator,
  Store,
} from '../../core/src/contracts/index.js';
import { createLogger, silentLogger } from '../../core/src/logging/index.js';
import { SystemClock } from '../../core/src/time/clock.js';
import { openStore } from '../../core/src/store/index.js';
import { runBatch, type BatchSettings } from '../../core/src/validator/batch.js';
import { cycleByIndex } from '../../core/src/validator/cycles.js';
import { ValidatorStore } from '../../core/src/validator/store.js';
import { LocalExecutorManager } from '../../executor-managers/local/src/local-executor-manager.js';
import { startTestMiner, TEST_CLASS, type TestMiner } from '../support/miner-harness.js';

const SLOW_CLASS = 'always_on.cpu.8c.16gb';
/** Long enough that the executor's 1 s leeway and 1 s download limit run out many times over. */
const SLOW_SPIN_UP_SECONDS = 6;
const ECHO_IMAGE = 'horde/echo:1';

const hardwareClass = (id: string, spinUpSeconds: number): HardwareClass => ({
  id,
  description: id,
  spinUpSeconds,
  shortCode: 'T',
  resources: {},
  dockerPreset: 'none',
  proof: { jobGenerators: ['echo'], maxJobSeconds: 10 },
});
const CLASSES = [hardwareClass(TEST_CLASS, 0), hardwareClass(SLOW_CLASS, SLOW_SPIN_UP_SECONDS)];

/** The job prints a secret it gets on its command line; tight limits, as hash-crack's are. */
const echoGenerator: JobGenerator = {
  name: 'echo',
  supports: () => true,
  async generate(request): Promise<GeneratedJob> {
    const secret = randomBytes(8).toString('hex');
    return {
      description: 'echo',
      spec: {
        executorClass: request.executorClass.id,
        image: ECHO_IMAGE,
        command: [secret],
        env: {},
        dockerRunOptionsPreset: 'none',
        timing: {
          allowedLeewaySeconds: 1,
          downloadTimeLimitSeconds: 1,
          executionTimeLimitSeconds: 5,
          uploadTimeLimitSeconds: 2,
          streamingStartTimeLimitSeconds: 0,
        },
      },
      verify: async (result) => ({ correct: result.stdout.trim() === secret, inTime: true, details: `printed ${result.stdout.trim()}` }),
    };
  },
};

/** One machine with two classes: each class's executors come from its own local manager. */
class TwoClassManager implements ExecutorManager {
  private readonly owner = new Map<string, ExecutorManager>();
  constructor(private readonly byClass: Record<string, LocalExecutorManager>) {}
  async manifest() {
    return Object.assign({}, ...(await Promise.all(Object.values(this.byClass).map((manager) => manager.manifest()))));
  }
  async start(token: string, executorClass: string, ctx: ExecutorStartContext): Promise<ExecutorHandle> {
    const manager = this.byClass[executorClass]!;
    const handle = await manager.start(token, executorClass, ctx);
    this.owner.set(handle.id, manager);
    return handle;
  }
  poll(handle: ExecutorHandle) {
    return this.owner.get(handle.id)!.poll(handle);
  }
  kill(handle: ExecutorHandle) {
    return this.owner.get(handle.id)!.kill(handle);
  }
  async close() {
    await Promise.all(Object.values(this.byClass).map((manager) => manager.close()));
  }
}

const settings: BatchSettings = {
  limits: { reservationMs: 3000, startupMs: 5000, slackMs: 3000 },
  manifestTimeoutMs: 5000,
  mainHotkeyTimeoutMs: 2000,
  connectConcurrency: 4,
  generateConcurrency: 4,
  verifyConcurrency: 2,
  maxExecutorsPerClass: 0,
};

let env: TestMiner;
let store: Store;

beforeAll(async () => {
  env = await startTestMiner({
    dialect: 'sqlite',
    runner: 'process',
    processImages: { [ECHO_IMAGE]: [process.execPath, '-e', 'console.log(process.argv.at(-1))'] },
    manager: (logger) =>
      new TwoClassManager({
        [TEST_CLASS]: new LocalExecutorManager({ executorClass: TEST_CLASS, executors: 1, killGraceMs: 2000, logger }),
        [SLOW_CLASS]: new LocalExecutorManager({ executorClass: SLOW_CLASS, executors: 1, killGraceMs: 2000, logger }),
      }),
  });
  store = await openStore({ client: 'sqlite', filename: ':memory:' });
});
afterAll(async () => {
  await store?.close();
  await env?.close();
});

describe('a batch with a slow-spin-up class on a fast executor manager', () => {
  it("completes the slow class's job too: its executor may wait at the barrier as long as the spin-up", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write: (chunk: Buffer, _e, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()),
      }),
    });
    const port = Number(new URL(env.url).port);
    const result = await runBatch(
      cycleByIndex(3, 100),
      [{ hotkey: env.minerHotkey.ss58, coldkey: env.minerHotkey.ss58, uid: 0, host: '127.0.0.1', port }],
      {
        validator: env.validatorA,
        clock: new SystemClock(),
        logger: logger ?? silentLogger(),
        store: new ValidatorStore(store, env.validatorA.ss58),
        generators: [echoGenerator],
        hardwareClasses: CLASSES,
        settings,
      },
    );
    const byClass = Object.fromEntries(result.records.map((record) => [record.executorClass, record]));
    expect(byClass[SLOW_CLASS], JSON.stringify(byClass[SLOW_CLASS])).toMatchObject({ status: 'completed', correct: true });
    expect(byClass[TEST_CLASS]).toMatchObject({ status: 'completed', correct: true });
    // The slow class really did wait: its job request went out well after its initial request.
    expect(result.durationMs).toBeGreaterThanOrEqual(SLOW_SPIN_UP_SECONDS * 1000);
    expect(lines.filter((line) => line['msg'] === 'job did not pass')).toEqual([]);
  }, 60_000);
});
