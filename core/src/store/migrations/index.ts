import type { Knex } from 'knex';

export interface NamedMigration extends Knex.Migration {
  readonly name: string;
}

/**
 * Every schema change, in the order it is applied. Names are permanent (knex records them in
 * `knex_migrations`): add new migrations at the end, never rename or edit a released one.
 */
const migrations: readonly NamedMigration[] = [];

/** Migrations compiled into the package, so no directory has to be found at run time. */
export const migrationSource: Knex.MigrationSource<NamedMigration> = {
  getMigrations: async () => [...migrations],
  getMigrationName: (migration) => migration.name,
  getMigration: async (migration) => migration,
};
