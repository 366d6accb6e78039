import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { GeneratedJob, HardwareClass, JobGenerator, Store } from '../contracts/index.js';
import type { Hotkey } from '../keys/index.js';
import { SystemClock } from '../runtime/clock.js';
import { openStore } from '../store/index.js';
import { signedStartedReceipt, SimulatedMiner, testHotkey } from '../testkit/index.js';
import { runBatch, type BatchSettings } from './batch.js';
import { cycleByIndex } from './cycles.js';
import type { MinerTarget } from './miner-client.js';
import { ValidatorStore } from './store.js';

const logger = pino({ level: 'silent' });
const clock = new SystemClock();

function hardwareClass(id: string, spinUpSeconds: number): HardwareClass {
  return { id, description: id, spinUpSeconds, shortCode: 'T', resources: {}, dockerPreset: 'none', proof: { jobGenerators: ['echo'], maxJobSeconds: 10 } };
}
const FAST = hardwareClass('always_on.test', 0);
const SLOW = hardwareClass('always_on.slow', 1);

/** A generator whose answer is a secret sent on the command line: the executor must print it back. */
const echoGenerator: JobGenerator = {
  name: 'echo',
  supports: (c) => c.id === FAST.id || c.id === SLOW.id,
  async generate(request): Promise<GeneratedJob> {
    const secret = randomBytes(8).toString('hex');
    return {
      description: 'echo',
      spec: {
        executorClass: request.executorClass.id,
        image: 'echo',
        command: ['--key', secret],
        env: {},
        dockerRunOptionsPreset: 'none',
        timing: { allowedLeewaySeconds: 1, downloadTimeLimitSeconds: 1, executionTimeLimitSeconds: 2, uploadTimeLimitSeconds: 1, streamingStartTimeLimitSeconds: 0 },
      },
      verify: async (result) => ({
        correct: result.stdout.trim() === secret,
        inTime: result.timeTookMs < 2000,
        details: result.stdout.trim() === secret ? 'echoed' : `printed ${result.stdout.trim()}`,
      }),
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

let validator: Hotkey;
let keys: Record<'honest' | 'cheater' | 'busy' | 'slow' | 'rich', Hotkey>;
let store: Store;
const miners: SimulatedMiner[] = [];

beforeAll(async () => {
  validator = await testHotkey('//BatchValidator');
  const [honest, cheater, busy, slow, rich] = await Promise.all(['//Honest', '//Cheater', '//Busy', '//Slow', '//Rich'].map(testHotkey));
  keys = { honest: honest!, cheater: cheater!, busy: busy!, slow: slow!, rich: rich! };
  store = await openStore({ client: 'sqlite', filename: ':memory:' });
});
afterEach(async () => {
  for (const miner of miners.splice(0)) await miner.close();
});
afterAll(async () => {
  await store.close();
});

const target = (miner: SimulatedMiner, coldkey: string): MinerTarget => ({ hotkey: miner.hotkey, coldkey, uid: 1, host: '127.0.0.1', port: miner.port });

describe('runBatch over real websockets', () => {
  it('runs one job per declared executor, verifies the answers, sends receipts and stores every outcome', async () => {
    const honest = await SimulatedMiner.start({ hotkey: keys.honest, manifest: { [FAST.id]: 2 } });
    const cheater = await SimulatedMiner.start({ hotkey: keys.cheater, manifest: { [FAST.id]: 1 }, execute: () => ({ stdout: 'deadbeef\n' }) });
    const busy = await SimulatedMiner.start({
      hotkey: keys.busy,
      manifest: { [FAST.id]: 1 },
      mainHotkey: keys.honest.ss58,
      declineWith: () => [signedStartedReceipt(keys.rich, { minerHotkey: keys.busy.ss58, executorClass: FAST.id, timestampMs: Date.now() - 1000 })],
    });
    miners.push(honest, cheater, busy);
    const unreachable: MinerTarget = { hotkey: '5Unreachable', coldkey: 'c-x', uid: 9, host: '127.0.0.1', port: 1 };
    const validatorStore = new ValidatorStore(store, validator.ss58);
    const finished: string[] = [];

    const result = await runBatch(cycleByIndex(3, 100), [target(honest, 'c-honest'), target(cheater, 'c-cheater'), target(busy, 'c-busy'), unreachable], {
      validator,
      clock,
      logger,
      store: validatorStore,
      generators: [echoGenerator],
      hardwareClasses: [FAST],
      settings,
      hooks: { onJobFinished: (record) => finished.push(record.minerHotkey) },
    });

    expect(result).toMatchObject({ cycle: 3, miners: 3, jobs: 4, outcomes: { completed: 3, rejected: 1 } });
    expect(finished).toHaveLength(4);
    const byMiner = (hotkey: string) => result.records.filter((record) => record.minerHotkey === hotkey);
    expect(byMiner(keys.honest.ss58).map((r) => [r.status, r.correct, r.inTime])).toEqual([
      ['completed', true, true],
      ['completed', true, true],
    ]);
    expect(byMiner(keys.cheater.ss58)[0]).toMatchObject({ status: 'completed', correct: false, details: 'printed deadbeef' });
    const declined = byMiner(keys.busy.ss58)[0]!;
    expect(declined).toMatchObject({ status: 'rejected', accepted: false, rejectionReason: 'busy' });
    expect(declined.rejectionReceipts).toHaveLength(1);
    expect(declined.checkedAt).toBeGreaterThan(0);

    // The miners saw validly signed receipts: started for every job, accepted and finished for taken ones.
    // (The last receipts are still in flight when runBatch returns.)
    await vi.waitFor(() => expect(honest.receipts).toEqual({ started: 2, accepted: 2, finished: 2, badSignatures: 0 }));
    expect(busy.receipts).toEqual({ started: 1, accepted: 0, finished: 0, badSignatures: 0 });

    // Everything scoring needs is in the store.
    const outcomes = await validatorStore.jobOutcomes(3);
    expect(outcomes).toHaveLength(4);
    expect(outcomes.find((o) => o.minerHotkey === keys.busy.ss58)?.rejection?.receipts).toHaveLength(1);
    expect(await validatorStore.manifests(3)).toEqual({
      [keys.honest.ss58]: { [FAST.id]: 2 },
      [keys.cheater.ss58]: { [FAST.id]: 1 },
      [keys.busy.ss58]: { [FAST.id]: 1 },
    });
    const mains = await validatorStore.mainHotkeys(3);
    expect(mains.get('c-honest')).toBe(keys.honest.ss58);
    expect(mains.get('c-busy')).toBe(keys.honest.ss58); // whatever the miner says is recorded
  });

  it('staggers initial requests by spin-up time and sends every job request only after all are ready', async () => {
    const miner = await SimulatedMiner.start({ hotkey: keys.slow, manifest: { [FAST.id]: 2, [SLOW.id]: 2 } });
    miners.push(miner);
    const result = await runBatch(cycleByIndex(4, 100), [target(miner, 'c-slow')], {
      validator,
      clock,
      logger,
      store: new ValidatorStore(store, validator.ss58),
      generators: [echoGenerator],
      hardwareClasses: [FAST, SLOW],
      settings,
    });
    expect(result.outcomes).toEqual({ completed: 4 });
    const initial = (executorClass: string) => miner.timeline.filter((e) => e.messageType === 'V0InitialJobRequest' && e.executorClass === executorClass).map((e) => e.at);
    // The 1 s class goes first; the 0 s class about 1 s later.
    expect(Math.min(...initial(FAST.id)) - Math.max(...initial(SLOW.id))).toBeGreaterThanOrEqual(900);
    const lastInitial = Math.max(...initial(FAST.id), ...initial(SLOW.id));
    const jobRequests = miner.timeline.filter((e) => e.messageType === 'V0JobRequest').map((e) => e.at);
    expect(jobRequests).toHaveLength(4);
    expect(Math.min(...jobRequests)).toBeGreaterThanOrEqual(lastInitial);
    expect(result.overheadMs).toBeLessThan(result.durationMs);
  });

  it('takes the manifest from elsewhere (the on-chain commitment) when one is given', async () => {
    const miner = await SimulatedMiner.start({ hotkey: keys.honest, manifest: { [FAST.id]: 2 } });
    miners.push(miner);
    const asked: string[] = [];
    const result = await runBatch(cycleByIndex(6, 100), [target(miner, 'c')], {
      validator,
      clock,
      logger,
      store: new ValidatorStore(store, validator.ss58),
      generators: [echoGenerator],
      hardwareClasses: [FAST],
      settings,
      manifestOf: async (t) => {
        asked.push(t.hotkey);
        return { [FAST.id]: 1 };
      },
    });
    expect(asked).toEqual([keys.honest.ss58]);
    expect(result.jobs).toBe(1);
    expect(await new ValidatorStore(store, validator.ss58).manifests(6)).toEqual({ [keys.honest.ss58]: { [FAST.id]: 1 } });
  });

  it('gives up on a miner that never reports its executor ready, and on one that never answers the job', async () => {
    const neverReady = await SimulatedMiner.start({ hotkey: keys.honest, manifest: { [FAST.id]: 1 }, readyDelayMs: 60_000 });
    const neverDone = await SimulatedMiner.start({ hotkey: keys.cheater, manifest: { [FAST.id]: 1 }, executionDelayMs: 60_000 });
    miners.push(neverReady, neverDone);
    const started = Date.now();
    const result = await runBatch(cycleByIndex(5, 100), [target(neverReady, 'a'), target(neverDone, 'b')], {
      validator,
      clock,
      logger,
      store: new ValidatorStore(store, validator.ss58),
      generators: [echoGenerator],
      hardwareClasses: [FAST],
      settings,
    });
    expect(result.outcomes).toEqual({ horde_failed: 2 });
    expect(result.records.map((r) => r.details).sort()).toEqual([
      expect.stringMatching(/^waiting for the executor: no executor ready/),
      expect.stringMatching(/^waiting for the result: no job result/),
    ].sort((a, b) => String(a).localeCompare(String(b))));
    // Bounded by the startup limit, then the job's limits plus slack: about 2 s + 6 s.
    expect(Date.now() - started).toBeLessThan(12_000);
  }, 20_000);
});
