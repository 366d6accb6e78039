import { readFileSync } from 'node:fs';

/** @horde/core's version, read from its package.json (two levels up from both src/cli and dist/cli). */
export function coreVersion(): string {
  const url = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}
