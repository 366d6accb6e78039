import { readFileSync } from 'node:fs';

/** @horde/core's version, read from its package.json (one level up from both src and dist). */
export function coreVersion(): string {
  const url = new URL('../package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}
