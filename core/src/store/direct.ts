import type { Knex } from 'knex';

/**
 * The accept path's queries, run with as little of knex's machinery as each dialect allows.
 *
 * knex is kept as the one definition of every query (its builder, its SQL, its bindings); what
 * these helpers skip is its runner. On SQLite (better-sqlite3: one connection, synchronous) a
 * knex transaction builds a transactor object (a knex instance of its own), a promise chain per
 * statement and `BEGIN;`/`COMMIT;` as queries of their own: 0.75 ms of CPU for a transaction of
 * three inserts, against 0.15 ms for the same statements run on the connection (measured on the
 * 2-core benchmark machine, WAL, synchronous FULL; the fsync is in both). A miner accepting 100
 * jobs a second spent a fifth of its accept CPU there. On PostgreSQL the builder runs as usual:
 * its round trips, not knex, are what cost.
 *
 * The SQLite path takes the pool's only connection for the whole step (as a knex transaction
 * does), so no other query of this process runs in between; the statements run synchronously on it
 * between `BEGIN IMMEDIATE` and `COMMIT`, with knex's own binding conversion (dates to
 * milliseconds, booleans to 0/1). A statement that fails rolls the step back and its error is
 * thrown as better-sqlite3 raised it (its `code`, e.g. `SQLITE_CONSTRAINT_PRIMARYKEY`, intact).
 */

/** The part of a better-sqlite3 connection used here. */
interface SqliteConnection {
  prepare(sql: string): { readonly reader: boolean; all(bindings: unknown[]): unknown[]; run(bindings: unknown[]): unknown };
  exec(sql: string): void;
  readonly inTransaction: boolean;
}

/** The part of knex's client used here (`Knex.Client` types them loosely or not at all). */
interface DirectClient {
  readonly config: { readonly client?: unknown };
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<unknown>;
  _formatBindings(bindings: readonly unknown[]): unknown[];
}

/** The SQLite client to run on directly; null for PostgreSQL, and for a knex transaction (it holds the connection). */
function sqliteClient(db: Knex): DirectClient | null {
  const client = db.client as unknown as DirectClient;
  return client.config.client === 'better-sqlite3' && !db.isTransaction ? client : null;
}

/** Runs one compiled query on the connection: its rows, or none for a statement that returns none. */
function runOn(connection: SqliteConnection, client: DirectClient, query: Knex.QueryBuilder): unknown[] {
  const { sql, bindings } = query.toSQL().toNative();
  const statement = connection.prepare(sql);
  const values = client._formatBindings(bindings);
  if (statement.reader) return statement.all(values);
  statement.run(values);
  return [];
}

/** knex's result of a query as rows: an update's count or a pg result without `returning` is none. */
function rowsOf<Row>(result: unknown): Row[] {
  return (Array.isArray(result) ? result : []) as Row[];
}

async function withConnection<T>(client: DirectClient, work: (connection: SqliteConnection) => Promise<T>): Promise<T> {
  const connection = (await client.acquireConnection()) as SqliteConnection;
  try {
    return await work(connection);
  } finally {
    await client.releaseConnection(connection);
  }
}

/** Runs one query: the rows of a select or of a write with `returning`, else none. */
export async function runQuery<Row>(db: Knex, query: Knex.QueryBuilder): Promise<Row[]> {
  const client = sqliteClient(db);
  if (client === null) {
    return rowsOf<Row>(await query);
  }
  return withConnection(client, async (connection) => runOn(connection, client, query) as Row[]);
}

/** Runs a query of a `transaction`: its rows (empty for a statement without `returning`). */
export type RunQuery = <Row = unknown>(query: Knex.QueryBuilder) => Promise<Row[]>;

/**
 * Runs `work` in one transaction: committed once it resolves, rolled back if it (or a query)
 * fails. `work` should await nothing but its queries: on SQLite the connection, and so every other
 * query of this process, waits for it (as in a knex transaction). So it must not run a query of
 * its own through `db` (a `runQuery`, another `transaction`, a builder awaited): on SQLite that
 * query would wait for the connection `work` holds until knex's acquire timeout.
 */
export async function transaction<T>(db: Knex, work: (run: RunQuery) => Promise<T>): Promise<T> {
  const client = sqliteClient(db);
  if (client === null) {
    return db.transaction(async (trx) =>
      work(async <Row>(query: Knex.QueryBuilder) => {
        return rowsOf<Row>(await query.transacting(trx));
      }),
    );
  }
  return withConnection(client, async (connection) => {
    connection.exec('BEGIN IMMEDIATE');
    try {
      const result = await work(async <Row>(query: Knex.QueryBuilder) => runOn(connection, client, query) as Row[]);
      connection.exec('COMMIT');
      return result;
    } catch (error) {
      // A failed COMMIT (disk full, I/O error) may leave the transaction open: end it either way,
      // and report what failed, not the rollback.
      try {
        if (connection.inTransaction) connection.exec('ROLLBACK');
      } catch {
        // The connection reports its state on the next statement.
      }
      throw error;
    }
  });
}

/** `transaction` of queries that depend on no result: run in order, each one's rows handed back. */
export function writeTogether(db: Knex, queries: readonly Knex.QueryBuilder[]): Promise<unknown[][]> {
  return transaction(db, async (run) => {
    const results: unknown[][] = [];
    for (const query of queries) results.push(await run(query));
    return results;
  });
}
