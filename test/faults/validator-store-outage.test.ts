/**
 * PostgreSQL restarted under a running `horde validator` (a cluster the test starts itself, stopped
 * as a crash: immediate) while its batch's jobs run on a real miner: the validator process stays
 * up and reconnects by itself, every job whose result it acknowledged to the miner (a finished
 * receipt the miner holds) is in its store, and the next cycle runs to the end: batch, scores, weights.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../core/src/contracts/index.js';
import { openStore } from '../../core/src/store/index.js';
import { CliSubnet } from './cli-subnet.js';
import { minerHealth } from './miner-health.js';
import { OwnPostgres } from './own-postgres.js';
import { processAlive, waitUntil } from './processes.js';

const CHAIN = { blockTimeMs: 250, tempo: 59, revealPeriodEpochs: 1, cycleLengthBlocks: 80 };
const OUTAGE_MS = 6_000;

describe('PostgreSQL restarted under a running validator', () => {
  let pg: OwnPostgres;
  let subnet: CliSubnet;
  let minerStore: Store;
  let validatorStore: Store | null = null;

  beforeAll(async () => {
    pg = await OwnPostgres.create();
    subnet = await CliSubnet.start({ chain: CHAIN, executors: 2, validatorStore: `{ client: postgres, url: '${pg.url}' }` });
    minerStore = await openStore({ client: 'sqlite', filename: subnet.minerStoreFile });
  }, 120_000);
  afterAll(async () => {
    try {
      pg?.start();
    } catch {
      // running already
    }
    await validatorStore?.close();
    await minerStore?.close();
    await subnet?.close();
    pg?.destroy();
  });

  it('keeps running, loses no acknowledged job and completes the next cycle', async () => {
    const { validator, miner } = subnet;
    const pid = validator.pid;
    await waitUntil(
      'the batch has jobs on the executors',
      async () => Object.values((await minerHealth(miner.url)).executors).some((slot) => slot.used > 0),
      60_000,
    );
    pg.stop('immediate');
    const downAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    pg.start();
    const upAt = Date.now();
    expect(processAlive(pid)).toBe(true);

    validatorStore = await openStore({ client: 'postgres', url: pg.url });
    const db = validatorStore.db;
    // The next cycle, end to end, in the same process: a batch started after the outage finishes and is scored.
    let nextCycle = -1;
    await waitUntil(
      'a batch started after the outage is finished and scored',
      async () => {
        const batch = (await db('validator_batches')
          .where('started_at', '>', upAt)
          .andWhere({ status: 'finished' })
          .orderBy('cycle')
          .first()) as { cycle: number } | undefined;
        if (!batch) return false;
        nextCycle = batch.cycle;
        return (await db('validator_scores').where({ cycle: batch.cycle }).first()) !== undefined;
      },
      90_000,
    );
    const cycleDoneMs = Date.now() - upAt;
    expect(validator.pid).toBe(pid);
    expect(processAlive(pid)).toBe(true);
    await waitUntil(
      'weights for that cycle are on chain',
      async () => (await db('validator_weights').where({ cycle: nextCycle }).whereIn('status', ['set', 'committed']).first()) !== undefined,
      60_000,
    );

    // Every result the validator acknowledged (a finished receipt the miner stored) is in its store.
    const acknowledged: string[] = (
      await minerStore.db('miner_receipts').where({ receipt_type: 'JobFinishedReceipt' }).select('job_uuid')
    ).map((row: { job_uuid: string }) => row.job_uuid);
    const stored = new Set(
      (await db('validator_jobs').whereIn('job_uuid', acknowledged).select('job_uuid')).map((row: { job_uuid: string }) => row.job_uuid),
    );
    expect(acknowledged.length).toBeGreaterThan(0);
    expect(acknowledged.filter((uuid) => !stored.has(uuid))).toEqual([]);
    // No batch is left running.
    expect(await db('validator_batches').where({ status: 'running' }).andWhere('cycle', '<=', nextCycle)).toEqual([]);
    const count = (msg: string) => validator.output.split('\n').filter((line) => line.includes(`"msg":"${msg}"`)).length;
    console.log(
      `validator store outage: down ${upAt - downAt} ms; batch of cycle ${nextCycle} finished and scored ${cycleDoneMs} ms after the server was back; ` +
        `${acknowledged.length} acknowledged jobs, all stored; ${count('store write failed; retrying (the store may be restarting)')} write retries, ` +
        `${count('validator step failed')} failed steps logged; same process`,
    );
  }, 240_000);
});
