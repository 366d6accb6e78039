import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../contracts/index.js';
import { validatorSection } from '../../config/sections/validator.js';
import { silentLogger } from '../../logging/index.js';
import { openStore } from '../../store/index.js';
import { SystemClock } from '../../time/clock.js';
import { pgDatabase, type TestDatabase } from '../../../../test/support/services.js';
import { ValidatorWorkerPool } from './pool.js';

const WORKERS = 4;
const HOTKEY = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';

let db: TestDatabase;
const stores: Store[] = [];

beforeAll(async () => {
  db = await pgDatabase('horde_worker_pool');
});

afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
  await db?.drop();
});

describe('ValidatorWorkerPool.open', () => {
  // `horde validator --workers N` starts its N workers at the same moment on a fresh database:
  // their pg-boss queue creations ran together and one died on a PostgreSQL deadlock
  // ("the pg-boss task queue did not start: deadlock detected"; found by test/bench/scale).
  it('opens when several workers of one hotkey start at the same moment', async () => {
    const settings = validatorSection.parse({}).workers;
    for (let i = 0; i < WORKERS; i++) stores.push(await openStore({ client: 'postgres', url: db.url }));
    const results = await Promise.allSettled(
      stores.map((store) =>
        ValidatorWorkerPool.open({
          store,
          url: db.url,
          validatorHotkey: HOTKEY,
          settings,
          logger: silentLogger(),
          clock: new SystemClock(),
        }),
      ),
    );
    const pools = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    try {
      expect(
        results.filter((result) => result.status === 'rejected').map((result) => String((result as PromiseRejectedResult).reason)),
      ).toEqual([]);
      expect(new Set(pools.map((pool) => pool.pid)).size).toBe(WORKERS);
    } finally {
      await Promise.all(pools.map((pool) => pool.close()));
    }
  }, 120_000);
});
