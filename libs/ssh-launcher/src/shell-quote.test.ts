import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exportLines, isEnvName, shellQuote, shellQuoteArgv } from './shell-quote.js';

// Strings a careless quoting would break or let escape: quotes of every kind, expansions, command
// substitution, globbing, separators, newlines, leading dashes, non-ASCII, the empty string.
const NASTY = [
  '',
  'plain',
  'two words',
  "it's",
  "''",
  '"double"',
  '$HOME',
  '${PATH}',
  '$(touch /tmp/horde-pwned)',
  '`touch /tmp/horde-pwned`',
  'a\\b\\',
  '*',
  '?',
  '[abc]',
  '~',
  '~root',
  'a;b',
  'a&&b',
  'a|b',
  'a>b',
  '<in',
  '!event',
  '#not a comment',
  '-n',
  '--',
  '=ls',
  'line1\nline2',
  '\ttab',
  ' leading and trailing ',
  'ünïcödé ✓',
  `'"\`$\\!*?[]{}()<>|&;#~= \n\t`,
  '{"runner":"docker","processImages":{"a b":["node","x\'y"]}}',
];

/** The shells on this machine; each must parse the quoted words back to the same strings. */
const SHELLS = ['/bin/sh', '/bin/dash', '/bin/bash', '/bin/busybox'].filter((path) => existsSync(path));

function roundTrip(shell: string, words: readonly string[]): string[] {
  const args = shell.endsWith('busybox') ? ['sh', '-c'] : ['-c'];
  // printf '%s\0' prints each argument NUL-terminated, so any byte but NUL survives.
  const script = `printf '%s\\0' ${shellQuoteArgv(words)}`;
  const result = spawnSync(shell, [...args, script], { encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout.split('\0').slice(0, -1);
}

describe('shellQuote', () => {
  it.each(SHELLS)('every word parses back to itself in %s, unexpanded', (shell) => {
    expect(roundTrip(shell, NASTY)).toEqual(NASTY);
    expect(existsSync('/tmp/horde-pwned'), 'no command substitution ran').toBe(false);
  });

  it('keeps plain words readable and quotes everything else', () => {
    expect(shellQuote('/usr/bin/node')).toBe('/usr/bin/node');
    expect(shellQuote('--miner-url=ws://1.2.3.4:8000')).toBe('--miner-url=ws://1.2.3.4:8000');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });

  it('refuses a NUL byte, which no argv element can hold', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });
});

describe('exportLines', () => {
  it.each(SHELLS)('exports values that %s reads back byte for byte', (shell) => {
    const env = Object.fromEntries(NASTY.map((value, i) => [`V_${i}`, value]));
    const args = shell.endsWith('busybox') ? ['sh', '-c'] : ['-c'];
    const script = `eval ${shellQuote(exportLines(env))}; for i in $(seq 0 ${NASTY.length - 1}); do eval "printf '%s\\0' \\"\\$V_$i\\""; done`;
    const result = spawnSync(shell, [...args, script], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.split('\0').slice(0, -1)).toEqual(NASTY);
  });

  it('refuses names that are not shell identifiers instead of quoting them', () => {
    expect(isEnvName('EXECUTOR_TOKEN')).toBe(true);
    expect(isEnvName('_x1')).toBe(true);
    for (const bad of ['', '1A', 'A-B', 'A B', 'A=B', 'A;rm -rf /', '$A']) {
      expect(isEnvName(bad)).toBe(false);
      expect(() => exportLines({ [bad]: 'x' })).toThrow(/invalid environment variable name/);
    }
  });
});
