import type { Knex } from 'knex';

/**
 * The relational store (knex). SQLite under the data directory by default, PostgreSQL in
 * production; the same migrations and queries run on both. Migrations have run before any
 * plugin's `register` is called.
 *
 * Plugins that keep state create their own tables, named `plugin_<plugin>_<table>`.
 */
export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  readonly db: Knex;
  close(): Promise<void>;
}
