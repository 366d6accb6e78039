import type { Knex } from 'knex';

/**
 * Inserts `row` into `table` unless a row matching `key` is there; true when this call inserted
 * it. Two callers at once (two reports of one job, a job request sent twice): the table's unique
 * key lets one in, and the other gets false instead of the insert's error.
 */
export async function insertOnce(db: Knex, table: string, key: Record<string, unknown>, row: Record<string, unknown>): Promise<boolean> {
  if (await db(table).where(key).first()) return false;
  try {
    await db(table).insert(row);
    return true;
  } catch (error) {
    if (await db(table).where(key).first()) return false;
    throw error;
  }
}
