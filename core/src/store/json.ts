/**
 * JSON columns: PostgreSQL's json/jsonb come back parsed, SQLite's come back as text. Store with
 * `toJsonColumn` and read with `fromJsonColumn` so callers see the same value on both.
 */
export function toJsonColumn(value: unknown): string {
  return JSON.stringify(value);
}

export function fromJsonColumn<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}
