import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import knex, { type Knex } from 'knex';
import type { Store } from '../contracts/index.js';
import { migrationSource } from './migrations/index.js';

export type StoreOptions =
  /** SQLite file (created with its directory), or `:memory:`. */
  | { readonly client: 'sqlite'; readonly filename: string }
  /** PostgreSQL connection URL, e.g. `postgres://user@127.0.0.1:5432/horde`. */
  | { readonly client: 'postgres'; readonly url: string; readonly poolMax?: number };

class KnexStore implements Store {
  constructor(
    readonly dialect: 'sqlite' | 'postgres',
    readonly db: Knex,
  ) {}
  async close(): Promise<void> {
    await this.db.destroy();
  }
}

/** The part of a better-sqlite3 connection this module touches. */
interface SqliteConnection {
  pragma(sql: string): unknown;
  prepare(sql: string): unknown;
}

/** Distinct SQL texts kept prepared per connection; the oldest goes first past this. */
export const PREPARED_STATEMENTS_KEPT = 256;

/**
 * Makes `conn.prepare` hand back the statement it already prepared for the same SQL text. knex
 * prepares every query it runs afresh (its better-sqlite3 client calls `prepare` per query), and
 * parsing and planning the same few statements again was 5% of a busy miner's CPU (143 ms of
 * 2.8 s in a 10 s profile of miner-validators' steady load). Reuse is safe here: knex runs a
 * statement to completion (`all` or `run`, synchronous) before it prepares the next, and horde sets
 * no per-query `safeIntegers` (the one setting knex changes on a statement); SQLite re-prepares a
 * statement by itself after a schema change (a migration).
 */
function reusePreparedStatements(conn: SqliteConnection): void {
  const prepare = conn.prepare.bind(conn);
  const prepared = new Map<string, unknown>();
  conn.prepare = (sql: string) => {
    let statement = prepared.get(sql);
    if (statement === undefined) {
      statement = prepare(sql);
      if (prepared.size >= PREPARED_STATEMENTS_KEPT) prepared.delete(prepared.keys().next().value!);
      prepared.set(sql, statement);
    }
    return statement;
  };
}

function sqliteConfig(filename: string): Knex.Config {
  if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
  return {
    client: 'better-sqlite3',
    connection: { filename },
    useNullAsDefault: true,
    pool: {
      // Several horde processes (the devnet's miners, validator and local chain) share one file:
      // WAL lets readers run beside the writer, and busy_timeout makes a writer wait its turn
      // instead of failing with SQLITE_BUSY.
      afterCreate(conn: SqliteConnection, done: (err: Error | null, conn: unknown) => void) {
        conn.pragma('journal_mode = WAL');
        conn.pragma('busy_timeout = 10000');
        conn.pragma('foreign_keys = ON');
        reusePreparedStatements(conn);
        done(null, conn);
      },
    },
  };
}

/** How long a process waits for another one that is migrating the same database. */
const MIGRATION_LOCK_WAIT_MS = 60_000;

/** Key of the PostgreSQL advisory lock that serialises the bootstrap below ("horde" in ASCII). */
const BOOTSTRAP_LOCK_KEY = 0x686f726465;

/**
 * Creates knex's own bookkeeping tables and the single lock row, if missing, in one serialised
 * step. knex does this itself with check-then-create outside its lock, so processes opening a new
 * database together fail with "table knex_migrations already exists", or both insert a lock row —
 * after which knex's lock (an update that must touch exactly one row) can never be taken again.
 * PostgreSQL: a transaction-scoped advisory lock. SQLite: the transaction's first statement is a
 * write (knex's own `create table` for `knex_migrations`, made idempotent), which takes the database
 * write lock before anything is read. The tables are knex's (`table-creator.js`).
 */
async function bootstrapMigrationTables(db: Knex): Promise<void> {
  await db.transaction(async (trx) => {
    if (db.client.config.client === 'pg') await trx.raw('select pg_advisory_xact_lock(?)', [BOOTSTRAP_LOCK_KEY]);
    else {
      await trx.raw(
        'create table if not exists `knex_migrations` (`id` integer not null primary key autoincrement, `name` varchar(255), `batch` integer, `migration_time` datetime)',
      );
    }
    if (!(await trx.schema.hasTable('knex_migrations'))) {
      await trx.schema.createTable('knex_migrations', (t) => {
        t.increments();
        t.string('name');
        t.integer('batch');
        t.timestamp('migration_time');
      });
    }
    if (!(await trx.schema.hasTable('knex_migrations_lock'))) {
      await trx.schema.createTable('knex_migrations_lock', (t) => {
        t.increments('index').primary();
        t.integer('is_locked');
      });
    }
    const lockRows = await trx('knex_migrations_lock').count({ n: '*' }).first();
    if (Number(lockRows?.n ?? 0) === 0) await trx('knex_migrations_lock').insert({ is_locked: 0 });
  });
}

/**
 * Brings the schema up to date. Processes started together on one database (the devnet's chain
 * store) race for knex's migration lock; the loser gets `MigrationLocked` at once, so it waits for
 * the winner to finish and tries again (by then there is usually nothing left to run).
 */
async function migrate(db: Knex): Promise<void> {
  await bootstrapMigrationTables(db);
  const deadline = Date.now() + MIGRATION_LOCK_WAIT_MS;
  for (let delayMs = 50; ; delayMs = Math.min(delayMs * 2, 1_000)) {
    try {
      await db.migrate.latest({ migrationSource });
      return;
    } catch (error) {
      if ((error as Error).name !== 'MigrationLocked' || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** Opens the store and brings its schema up to date. */
export async function openStore(options: StoreOptions): Promise<Store> {
  const config: Knex.Config =
    options.client === 'sqlite'
      ? sqliteConfig(options.filename)
      : { client: 'pg', connection: options.url, pool: { min: 0, max: options.poolMax ?? 10 } };
  const db = knex(config);
  try {
    await migrate(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return new KnexStore(options.client, db);
}
