/**
 * Stake-proportional sharing of a miner's executors, end to end: a real miner (real `horde
 * executor` processes, process runner) with four executors, two validators on its metagraph with
 * stake 3:1, real websockets, SQLite and PostgreSQL.
 *  - Both keep asking for more executors than the miner has: the executors are held 3:1 (within
 *    10 % as the miner's pool holds them, 13 % as the validators see them), and the declines are
 *    protocol `busy` declines with excuse receipts.
 *  - The high-stake validator gone, the low-stake one gets every executor.
 * Before the fix the miner served whoever asked first, so the split followed request timing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHotkey, type Hotkey } from '../../core/src/keys/index.js';
import { NETUID, startTestMiner, TEST_CLASS, type TestMiner } from '../support/miner-harness.js';
import { testImage } from '../support/services.js';
import { TestValidator } from '../support/test-validator.js';

const EXECUTORS = 4;
const LOAD_MS = 20_000;
/**
 * Sampling starts once the first jobs are over: until a validator has been declined, it is not
 * competing, so the first to ask may take every executor (idle capacity is lent out).
 */
const STEADY_AFTER_MS = 6_000;
const TIMING = {
  allowed_leeway: 5,
  download_time_limit: 10,
  execution_time_limit: 20,
  upload_time_limit: 10,
  streaming_start_time_limit: 5,
};

interface Tally {
  /** Jobs accepted and not finished yet: executors this validator holds now. */
  holding: number;
  finished: number;
  /** Of those, jobs accepted once the split is steady (`STEADY_AFTER_MS`): the first to ask may have taken every executor before. */
  finishedSteady: number;
  declined: number;
  declinesWithExcuses: number;
}

describe.each(['sqlite', 'postgres'] as const)('executors shared by validator stake (%s store)', (dialect) => {
  let env: TestMiner;
  let rich: Hotkey;
  let poor: Hotkey;

  beforeAll(async () => {
    [rich, poor] = await Promise.all([loadHotkey({ uri: '//CapacityRich' }), loadHotkey({ uri: '//CapacityPoor' })]);
    env = await startTestMiner({ dialect, runner: 'process', executors: EXECUTORS, processImages: { [testImage()]: ['env'] } });
    // Registered before any auth: the miner reads the metagraph once and keeps it for a minute.
    await env.chain.ledger.registerNeuron({ netuid: NETUID, hotkey: rich.ss58, coldkey: rich.ss58, stake: 30_000, validatorPermit: true });
    await env.chain.ledger.registerNeuron({ netuid: NETUID, hotkey: poor.ss58, coldkey: poor.ss58, stake: 10_000, validatorPermit: true });
  });
  afterAll(async () => {
    await env?.close();
  });

  /** One worker: its own connection, asking for an executor again and again, running a short job on each it gets. */
  async function worker(validator: Hotkey, until: number, steadyFrom: number, tally: Tally): Promise<void> {
    const client = await TestValidator.connect({ url: env.url, validator, minerHotkey: env.minerHotkey.ss58 });
    await client.expect('V0ExecutorManifestRequest');
    try {
      while (Date.now() < until) {
        const { jobUuid } = await client.initialJobRequest({
          executor_class: TEST_CLASS,
          docker_image: testImage(),
          executor_timing: TIMING,
        });
        const answer = await client.next(10_000);
        if (answer.message_type === 'V0DeclineJobRequest') {
          expect(answer.reason).toBe('busy');
          tally.declined += 1;
          if (answer.receipts.length > 0) tally.declinesWithExcuses += 1;
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
        expect(answer.message_type).toBe('V0AcceptJobRequest');
        tally.holding += 1;
        const steady = Date.now() >= steadyFrom;
        await client.expect('V0ExecutorReadyRequest', jobUuid, 30_000);
        await client.jobRequest({
          job_uuid: jobUuid,
          executor_class: TEST_CLASS,
          docker_image: testImage(),
          docker_run_options_preset: 'none',
          docker_run_cmd: ['sh', '-c', 'sleep 0.5; echo done'],
          env: {},
        });
        for (;;) {
          const message = await client.next(30_000);
          if (message.message_type === 'V0JobFinishedRequest') break;
          if (message.message_type === 'V0JobFailedRequest' || message.message_type === 'V0HordeFailedRequest')
            throw new Error(`job failed: ${JSON.stringify(message)}`);
        }
        tally.finished += 1;
        if (steady) tally.finishedSteady += 1;
        tally.holding -= 1;
      }
    } finally {
      await client.close();
    }
  }

  /** Executors each validator holds now, as the miner's pool counts them (its `horde_miner_executors_held` gauge). */
  async function heldByPool(): Promise<{ rich: number; poor: number }> {
    const { values } = await env.metrics.getSingleMetric('horde_miner_executors_held')!.get();
    const of = (hotkey: Hotkey) => values.find((value) => value.labels.validator === hotkey.ss58)?.value ?? 0;
    return { rich: of(rich), poor: of(poor) };
  }

  /** Executors each validator holds now, from the miner's own job table. */
  async function held(): Promise<Map<string, number>> {
    const rows = (await env.store
      .db('miner_jobs')
      .whereIn('status', ['waiting_for_executor', 'waiting_for_payload', 'running'])
      .groupBy('validator_hotkey')
      .select('validator_hotkey')
      .count({ n: '*' })) as Array<{ validator_hotkey: string; n: unknown }>;
    return new Map(rows.map((row) => [row.validator_hotkey, Number(row.n)]));
  }

  // On both stores: the miner holds a request that finds no executor for a moment
  // (`capacityWaitMs`) and hands a freed executor to the waiting validator furthest below its share,
  // and a job that ended counts as holding its executor until the slot is released, so the split
  // no longer depends on how fast the store records a job's end or lets a re-request through
  // (before, on PostgreSQL, it measured 2.47-2.75; after, 2.99-3.00 on both stores). And an
  // executor that frees while a request that found the class full is being reserved goes through
  // the policy again, not to that request: under load it did, and the pool's split fell to 2.66.
  it('splits the executors 3:1 by stake while both validators ask for more than there is', async () => {
    const until = Date.now() + LOAD_MS;
    const steadyFrom = Date.now() + STEADY_AFTER_MS;
    const tally = (): Tally => ({ holding: 0, finished: 0, finishedSteady: 0, declined: 0, declinesWithExcuses: 0 });
    const tallies = { rich: tally(), poor: tally() };
    // Each validator keeps three requests waiting beyond its share (rich: 3 of 4 executors, poor:
    // 1), so a freed executor finds a request of either one ready; with equal worker counts the
    // poor validator had three waiting and the rich one one, and the rich one's re-request after a
    // finished job lost time the measurement then charged to the policy.
    const workers = [
      ...Array.from({ length: 6 }, () => worker(rich, until, steadyFrom, tallies.rich)),
      ...Array.from({ length: 4 }, () => worker(poor, until, steadyFrom, tallies.poor)),
    ];
    // Executor-time by validator, sampled while the load runs: as the miner's pool holds the
    // executors (what the policy shares out), and as each validator sees them (accepted, result
    // not back yet).
    const pool = { rich: 0, poor: 0 };
    const seen = { rich: 0, poor: 0 };
    const sampling = (async () => {
      await new Promise((resolve) => setTimeout(resolve, STEADY_AFTER_MS));
      while (Date.now() < until - 500) {
        const held = await heldByPool();
        pool.rich += held.rich;
        pool.poor += held.poor;
        seen.rich += tallies.rich.holding;
        seen.poor += tallies.poor.holding;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    await Promise.all([...workers, sampling]);

    const detail = `pool ${JSON.stringify(pool)}, seen by the validators ${JSON.stringify(seen)}, jobs ${JSON.stringify(tallies)}`;
    const ratio = pool.rich / pool.poor;
    expect(ratio, detail).toBeGreaterThan(2.7);
    expect(ratio, detail).toBeLessThan(3.3);
    // The validators' own view lags the pool by each job's messages and store writes, which load
    // makes uneven (2.97 on PostgreSQL with two CPU hogs, the pool at 3.00): looser bounds.
    const seenRatio = seen.rich / seen.poor;
    expect(seenRatio, detail).toBeGreaterThan(2.6);
    expect(seenRatio, detail).toBeLessThan(3.4);
    // Job counts follow the split too, less tightly: they also depend on each job's length (its
    // executor's start under load); the executor-time ratio above is the split itself.
    expect(tallies.rich.finishedSteady).toBeGreaterThanOrEqual(tallies.poor.finishedSteady * 2);
    expect(tallies.poor.finishedSteady).toBeGreaterThan(0);
    // Requests were turned away at times, always as protocol busy declines carrying excuse
    // receipts. The poor validator's always are (three waiting for its one executor); the rich
    // one's excess may all be served within their wait, its executors freeing every ~0.2 s.
    expect(tallies.poor.declined).toBeGreaterThan(0);
    expect(tallies.rich.declinesWithExcuses + tallies.poor.declinesWithExcuses).toBe(tallies.rich.declined + tallies.poor.declined);
  }, 90_000);

  it('gives the low-stake validator every executor while the other is idle', async () => {
    // Nothing of the earlier load is still held.
    await expect.poll(async () => [...(await held()).values()].reduce((a, b) => a + b, 0), { timeout: 20_000 }).toBe(0);
    const client = await TestValidator.connect({ url: env.url, validator: poor, minerHotkey: env.minerHotkey.ss58 });
    await client.expect('V0ExecutorManifestRequest');
    const answers: string[] = [];
    for (let i = 0; i < EXECUTORS; i += 1) {
      await client.initialJobRequest({ executor_class: TEST_CLASS, docker_image: testImage(), executor_timing: TIMING });
      // Skip what earlier jobs send meanwhile (executor ready): the answer to this request is an accept or a decline.
      let answer = await client.next(10_000);
      while (answer.message_type !== 'V0AcceptJobRequest' && answer.message_type !== 'V0DeclineJobRequest')
        answer = await client.next(10_000);
      answers.push(answer.message_type);
    }
    expect(answers).toEqual(Array(EXECUTORS).fill('V0AcceptJobRequest'));
    await client.close();
  }, 60_000);
});
