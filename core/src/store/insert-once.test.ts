import knex, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgDatabase, type TestDatabase } from '../../../test/support/services.js';
import { insertOnce } from './insert-once.js';

describe('insertOnce on PostgreSQL', () => {
  let database: TestDatabase;
  let db: Knex;
  beforeAll(async () => {
    database = await pgDatabase('horde_split_insert_once');
    db = knex({ client: 'pg', connection: database.url, pool: { min: 0, max: 10 } });
    await db.schema.createTable('reports', (table) => {
      table.string('job_uuid').primary();
      table.string('reporter').notNullable();
    });
  });
  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  it('lets exactly one of many simultaneous inserts of one key in; the others get false, not an error', async () => {
    const attempts = await Promise.all(
      Array.from({ length: 8 }, (_, i) => insertOnce(db, 'reports', { job_uuid: 'j1' }, { job_uuid: 'j1', reporter: `r${i}` })),
    );
    expect(attempts.filter(Boolean)).toHaveLength(1);
    expect(await db('reports').where({ job_uuid: 'j1' })).toHaveLength(1);
    // Once stored, the row stays as the winner wrote it.
    expect(await insertOnce(db, 'reports', { job_uuid: 'j1' }, { job_uuid: 'j1', reporter: 'late' })).toBe(false);
    expect((await db('reports').where({ job_uuid: 'j1' }).first()).reporter).not.toBe('late');
  });

  it('passes on an insert that fails for another reason', async () => {
    await expect(insertOnce(db, 'reports', { job_uuid: 'j2' }, { job_uuid: 'j2', reporter: null })).rejects.toThrow(/null/i);
    expect(await db('reports').where({ job_uuid: 'j2' })).toHaveLength(0);
  });
});
