/** `['plugins', 0, 'config']` → `plugins[0].config`. */
export function displayPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** `blockTimeMs` → `BLOCK_TIME_MS`. */
export function screamingSnake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** `BLOCK_TIME_MS` → `blockTimeMs`. */
export function camelCase(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The environment variable that sets a config path: `chain.local.blockTimeMs` → `HORDE_CHAIN__LOCAL__BLOCK_TIME_MS`. */
export function envVarFor(path: readonly PropertyKey[]): string | undefined {
  if (path.some((key) => typeof key !== 'string')) return undefined;
  return `HORDE_${path.map((key) => screamingSnake(String(key))).join('__')}`;
}
