import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgDatabase } from '../../../test/support/services.js';
import { openStore } from './index.js';
import { runQuery, transaction, writeTogether } from './direct.js';

// The same behaviour on both dialects: SQLite runs the compiled statements on its connection, PostgreSQL
// runs the builders in a knex transaction.
const dialects = [
  {
    name: 'sqlite',
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'horde-direct-'));
      const store = await openStore({ client: 'sqlite', filename: join(dir, 'horde.sqlite') });
      return { store, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
    constraintCode: /^SQLITE_CONSTRAINT/,
  },
  {
    name: 'postgres',
    open: async () => {
      const db = await pgDatabase('horde_direct');
      const store = await openStore({ client: 'postgres', url: db.url });
      return { store, cleanup: () => db.drop() };
    },
    constraintCode: /^23505$/,
  },
] as const;

for (const dialect of dialects) {
  describe(`store/direct on ${dialect.name}`, () => {
    let db: Knex;
    let close: () => Promise<void>;
    beforeAll(async () => {
      const { store, cleanup } = await dialect.open();
      db = (store as unknown as { db: Knex }).db;
      await db.schema.createTable('direct_items', (t) => {
        t.increments('id');
        t.string('name').notNullable().unique();
        t.boolean('flag').notNullable();
        t.bigInteger('at').notNullable();
      });
      close = async () => {
        await store.close();
        await cleanup();
      };
    });
    afterAll(() => close());

    it('commits every statement together and hands back the rows of those with returning', async () => {
      const results = await writeTogether(db, [
        db('direct_items').insert({ name: 'a', flag: true, at: 1 }).returning('id'),
        db('direct_items').insert({ name: 'b', flag: false, at: 2 }),
        db('direct_items').insert({ name: 'a', flag: true, at: 3 }).onConflict('name').ignore().returning('id'),
      ]);
      expect(results).toHaveLength(3);
      expect(results[0]).toHaveLength(1);
      expect(results[1]).toEqual([]);
      expect(results[2]).toEqual([]); // the conflict was ignored: nothing inserted, no row returned
      const rows = await runQuery<{ name: string; flag: unknown }>(db, db('direct_items').select('name', 'flag').orderBy('name'));
      // Booleans go in as knex stores them (0/1 on SQLite) and read back as the dialect gives them.
      expect(rows.map((r) => [r.name, Boolean(r.flag)])).toEqual([
        ['a', true],
        ['b', false],
      ]);
    });

    it('rolls every statement back when one fails, with the driver error as raised', async () => {
      const attempt = writeTogether(db, [
        db('direct_items').insert({ name: 'c', flag: true, at: 4 }),
        db('direct_items').insert({ name: 'a', flag: true, at: 5 }), // unique violation
      ]);
      const error = (await attempt.catch((e: unknown) => e)) as { code?: string };
      expect(String(error.code)).toMatch(dialect.constraintCode);
      expect(await runQuery(db, db('direct_items').where({ name: 'c' }).select('id'))).toEqual([]);
      // The connection is usable afterwards, in and out of transactions.
      await writeTogether(db, [db('direct_items').insert({ name: 'd', flag: false, at: 6 })]);
      await db.transaction(async (trx) => {
        await trx('direct_items').insert({ name: 'e', flag: false, at: 7 });
      });
      expect((await runQuery<{ name: string }>(db, db('direct_items').select('name').orderBy('name'))).map((r) => r.name)).toEqual([
        'a',
        'b',
        'd',
        'e',
      ]);
    });

    it('reads its own writes inside a transaction, and a failure of the work itself rolls them back', async () => {
      const seen = await transaction(db, async (run) => {
        await run(db('direct_items').insert({ name: 'f', flag: true, at: 11 }));
        const [row] = await run<{ at: unknown }>(db('direct_items').where({ name: 'f' }).select('at'));
        await run(
          db('direct_items')
            .where({ name: 'f' })
            .update({ at: Number(row!.at) + 1 }),
        );
        return (await run<{ at: unknown }>(db('direct_items').where({ name: 'f' }).select('at')))[0]!.at;
      });
      expect(Number(seen)).toBe(12);
      const failed = transaction(db, async (run) => {
        await run(db('direct_items').insert({ name: 'g', flag: true, at: 13 }));
        throw new Error('the work changed its mind');
      });
      await expect(failed).rejects.toThrow('the work changed its mind');
      expect(await runQuery(db, db('direct_items').where({ name: 'g' }).select('id'))).toEqual([]);
      await db('direct_items').whereIn('name', ['f']).delete();
    });

    it('runs beside a knex transaction of the same process without mixing into it (on SQLite it waits for it)', async () => {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const other = db.transaction(async (trx) => {
        await trx('direct_items').insert({ name: 'held', flag: true, at: 8 });
        await held;
        await trx('direct_items').where({ name: 'held' }).update({ at: 9 });
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      const ours = writeTogether(db, [db('direct_items').insert({ name: 'after', flag: true, at: 10 })]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      release();
      await Promise.all([other, ours]);
      const rows = await runQuery<{ name: string; at: unknown }>(
        db,
        db('direct_items').whereIn('name', ['held', 'after']).select('name', 'at').orderBy('name'),
      );
      expect(rows.map((r) => [r.name, Number(r.at)])).toEqual([
        ['after', 10],
        ['held', 9],
      ]);
    });

    it('runs many steps at once, each whole, none lost', async () => {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          writeTogether(db, [
            db('direct_items').insert({ name: `many-${i}`, flag: true, at: i }),
            db('direct_items').insert({ name: `many-${i}-twin`, flag: false, at: i }),
          ]),
        ),
      );
      const [row] = await runQuery<{ n: unknown }>(db, db('direct_items').where('name', 'like', 'many-%').count({ n: '*' }));
      expect(Number(row!.n)).toBe(100);
    });
  });
}
