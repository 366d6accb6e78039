/**
 * Column conversions shared by the miner's repositories. PostgreSQL returns BIGINT as a string
 * and BOOLEAN as a boolean; SQLite returns both as numbers. Read through these helpers so a row
 * looks the same on both dialects.
 */
export function toMillis(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

export function toMillisOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : toMillis(value);
}

export function toBool(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 't';
}
