export { openStore, type StoreOptions } from './connection.js';
export { fromJsonColumn, toJsonColumn } from './json.js';
export type { NamedMigration } from './migrations/index.js';
