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
      afterCreate(conn: { pragma(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
        conn.pragma('journal_mode = WAL');
        conn.pragma('busy_timeout = 10000');
        conn.pragma('foreign_keys = ON');
        done(null, conn);
      },
    },
  };
}

/** Opens the store and brings its schema up to date. */
export async function openStore(options: StoreOptions): Promise<Store> {
  const config: Knex.Config =
    options.client === 'sqlite'
      ? sqliteConfig(options.filename)
      : { client: 'pg', connection: options.url, pool: { min: 0, max: options.poolMax ?? 10 } };
  const db = knex(config);
  try {
    await db.migrate.latest({ migrationSource });
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return new KnexStore(options.client, db);
}
