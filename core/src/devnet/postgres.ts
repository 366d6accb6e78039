import { DevnetPreflightError } from './errors.js';
import type { StoreFor } from './configs.js';

/** PostgreSQL's longest identifier. */
const MAX_NAME = 63;

/**
 * `--postgres URL`: every store moves to PostgreSQL, one database per process plus one for the
 * chain, named after the URL's database: `<db>_chain`, `<db>_validator`, `<db>_trusted_miner`,
 * `<db>_miner_1`, … (`horde_devnet_…` when the URL names `postgres` or no database).
 */
export interface DevnetDatabases {
  readonly names: ReadonlyMap<string, string>;
  urlOf(process: string): string;
  storeFor: StoreFor;
}

export function databaseBaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  return name === '' || name === 'postgres' ? 'horde_devnet' : name;
}

export function planDatabases(url: string, processes: readonly string[]): DevnetDatabases {
  const base = databaseBaseName(url);
  const names = new Map(processes.map((process) => [process, `${base}_${process}`.replace(/[^a-zA-Z0-9_]/g, '_').toLowerCase()]));
  for (const name of names.values()) {
    if (name.length > MAX_NAME)
      throw new DevnetPreflightError(
        `database name ${name} is longer than PostgreSQL's ${MAX_NAME} characters; use a shorter database name in --postgres`,
      );
  }
  const urlOf = (process: string) => {
    const name = names.get(process);
    if (!name) throw new DevnetPreflightError(`no database planned for ${process}`);
    const target = new URL(url);
    target.pathname = `/${name}`;
    return target.toString();
  };
  return { names, urlOf, storeFor: (process) => ({ client: 'postgres', url: urlOf(process) }) };
}

/**
 * Creates the devnet's databases through the URL's own database. Refuses (before anything starts)
 * when the server cannot be reached or one of them exists already: a devnet never reuses or drops a
 * database, since a store from an earlier run would confuse the new chain's cycles.
 */
export async function createDatabases(url: string, databases: DevnetDatabases): Promise<void> {
  const { default: knex } = await import('knex');
  const quiet = { warn() {}, error() {}, deprecate() {}, debug() {} };
  // CREATE DATABASE runs from the server's maintenance database; the URL's own database (only a
  // name prefix here) need not exist.
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  let db: ReturnType<typeof knex> | null = null;
  let lastError: unknown;
  for (const candidate of [maintenance.toString(), url]) {
    const attempt = knex({ client: 'pg', connection: candidate, pool: { min: 0, max: 1 }, log: quiet });
    try {
      await attempt.raw('SELECT 1');
      db = attempt;
      break;
    } catch (error) {
      lastError = error;
      await attempt.destroy().catch(() => undefined);
    }
  }
  if (!db)
    throw new DevnetPreflightError(`cannot connect to PostgreSQL at ${redact(url)}: ${(lastError as Error).message}`, { cause: lastError });
  try {
    const wanted = [...databases.names.values()];
    const rows = (await db('pg_database').select('datname').whereIn('datname', wanted)) as Array<{ datname: string }>;
    const existing = rows.map((row) => row.datname);
    if (existing.length > 0) {
      throw new DevnetPreflightError(
        `PostgreSQL already has ${existing.join(', ')} (from an earlier devnet?). The devnet makes fresh databases: drop them (${existing.map((name) => `DROP DATABASE "${name}";`).join(' ')}) or name another database in --postgres.`,
      );
    }
    // Names come from planDatabases: letters, digits and underscores only.
    for (const name of wanted) await db.raw(`CREATE DATABASE "${name}"`);
  } finally {
    await db.destroy().catch(() => undefined);
  }
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
