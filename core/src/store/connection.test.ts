import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, expect, test } from 'vitest';
import { openStore } from './connection.js';

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
