import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, expect, test } from 'vitest';
import { openStore, PREPARED_STATEMENTS_KEPT } from './connection.js';

const run = promisify(execFile);
// The built store module: the test starts real processes, as the devnet does.
const storeModule = fileURLToPath(new URL('../../dist/store/index.js', import.meta.url));

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

test('processes opening one new store together all get it migrated (the losers of the migration lock wait)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'horde-store-'));
  dirs.push(dir);
  const filename = join(dir, 'shared.sqlite');
  const script = `
    const { openStore } = await import(${JSON.stringify(storeModule)});
    const store = await openStore({ client: 'sqlite', filename: ${JSON.stringify(filename)} });
    await store.close();`;
  const results = await Promise.allSettled(
    Array.from({ length: 4 }, () => run(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 })),
  );
  expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(['ok', 'ok', 'ok', 'ok']);

  const store = await openStore({ client: 'sqlite', filename });
  const applied = await store.db('knex_migrations').select('name');
  expect(new Set(applied.map((row) => row.name)).size).toBe(applied.length);
  // One lock row: with two, knex's lock (an update that must touch exactly one row) never succeeds again.
  expect(await store.db('knex_migrations_lock').select('is_locked')).toEqual([{ is_locked: 0 }]);
  await store.close();
});

test('SQLite reuses a prepared statement per SQL text, keeps a bounded number, and follows schema changes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'horde-store-'));
  dirs.push(dir);
  const store = await openStore({ client: 'sqlite', filename: join(dir, 'prepared.sqlite') });
  try {
    const conn = (await store.db.client.acquireConnection()) as { prepare(sql: string): unknown };
    try {
      expect(conn.prepare('select 1 as one')).toBe(conn.prepare('select 1 as one'));
      // Past the bound the oldest text is prepared anew; the newest is still kept.
      const first = conn.prepare('select 0 as n');
      for (let i = 1; i <= PREPARED_STATEMENTS_KEPT; i++) conn.prepare(`select ${i} as n`);
      expect(conn.prepare('select 0 as n')).not.toBe(first);
      const latest = conn.prepare(`select ${PREPARED_STATEMENTS_KEPT} as n`);
      expect(conn.prepare(`select ${PREPARED_STATEMENTS_KEPT} as n`)).toBe(latest);
    } finally {
      await store.db.client.releaseConnection(conn);
    }

    // Queries through knex: the same statement serves other bindings, reads and writes.
    await store.db.schema.createTable('prepared_probe', (t) => {
      t.integer('id').primary();
      t.text('name');
    });
    for (const id of [1, 2, 3]) await store.db('prepared_probe').insert({ id, name: `n${id}` });
    expect(await store.db('prepared_probe').where({ id: 2 }).first()).toEqual({ id: 2, name: 'n2' });
    expect(await store.db('prepared_probe').where({ id: 3 }).first()).toEqual({ id: 3, name: 'n3' });
    // A statement prepared before a migration sees the table as it is after it.
    await store.db.schema.alterTable('prepared_probe', (t) => t.text('extra').defaultTo('x'));
    expect(await store.db('prepared_probe').where({ id: 3 }).first()).toEqual({ id: 3, name: 'n3', extra: 'x' });
    // A failed statement (a duplicate key) leaves its cached statement usable.
    await expect(store.db('prepared_probe').insert({ id: 1, name: 'again' })).rejects.toThrow(/UNIQUE/);
    await store.db('prepared_probe').insert({ id: 4, name: 'n4' });
    expect(await store.db('prepared_probe').count({ n: '*' }).first()).toEqual({ n: 4 });
  } finally {
    await store.close();
  }
});
