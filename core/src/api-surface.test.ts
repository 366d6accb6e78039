/**
 * The API surface of each `@horde/core` entry point: every exported name with its kind, against
 * `__snapshots__/api-surface.txt`. Plugins are written against `.`, so a name appearing or leaving
 * there is a change of the plugin API: this test makes it visible and deliberate
 * (`npx vitest run core/src/api-surface.test.ts -u` accepts it; the diff shows up in review).
 * Values are read from the loaded modules (their kind from what they are at run time); type-only
 * exports, which leave nothing at run time, from the `export` statements of the source.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CORE = fileURLToPath(new URL('..', import.meta.url));
const SRC = resolve(CORE, 'src');

/** package.json `exports` entry → its source module (vitest's aliases map them the same way). */
const ENTRIES: Record<string, string> = {
  '.': 'index.ts',
  './runtime': 'runtime.ts',
  './testkit': 'testkit/index.ts',
  './sdk': 'sdk/index.ts',
};

/** Names a module exports as types only (interfaces, type aliases, `export type {…}`), following re-exports. */
function typeExports(file: string, seen = new Set<string>()): Set<string> {
  const names = new Set<string>();
  if (seen.has(file) || !file.startsWith(SRC)) return names;
  seen.add(file);
  const text = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const target = (spec: string) => resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
  for (const m of text.matchAll(/^export\s+(?:declare\s+)?(?:interface|type)\s+(\w+)/gm)) names.add(m[1]!);
  for (const m of text.matchAll(/^export\s+(type\s+)?\{([^}]*)\}(?:\s+from\s+'([^']+)')?/gm)) {
    for (const part of m[2]!.split(',')) {
      const item = part.trim();
      if (!item) continue;
      const isType = Boolean(m[1]) || item.startsWith('type ');
      const [original, alias] = item.replace(/^type\s+/, '').split(/\s+as\s+/);
      if (isType) names.add((alias ?? original)!.trim());
    }
  }
  for (const m of text.matchAll(/^export\s+(type\s+)?\*\s+from\s+'(\.[^']+)'/gm)) {
    const inner = typeExports(target(m[2]!), seen);
    for (const name of inner) names.add(name);
    // `export type *` makes every re-exported name type-only, values included.
    if (m[1]) for (const name of valueNamesOf(target(m[2]!))) names.add(name);
  }
  return names;
}

/** Value names a source module declares or re-exports (for `export type *`, where none survive at run time). */
function valueNamesOf(file: string, seen = new Set<string>()): Set<string> {
  const names = new Set<string>();
  if (seen.has(file)) return names;
  seen.add(file);
  const text = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  for (const m of text.matchAll(/^export\s+(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(?:class|function\*?|const|let|enum)\s+(\w+)/gm))
    names.add(m[1]!);
  for (const m of text.matchAll(/^export\s+\{([^}]*)\}/gm)) {
    for (const part of m[1]!.split(',')) {
      const item = part.trim();
      if (item && !item.startsWith('type '))
        names.add(
          item
            .split(/\s+as\s+/)
            .pop()!
            .trim(),
        );
    }
  }
  for (const m of text.matchAll(/^export\s+\*\s+from\s+'(\.[^']+)'/gm)) {
    for (const name of valueNamesOf(resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')), seen)) names.add(name);
  }
  return names;
}

function kindOf(value: unknown): string {
  if (typeof value === 'function') return /^class[\s{]/.test(Function.prototype.toString.call(value)) ? 'class' : 'function';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

async function surface(entry: string, file: string): Promise<string> {
  const module = (await import(/* @vite-ignore */ resolve(SRC, file))) as Record<string, unknown>;
  const values = Object.keys(module).filter((name) => name !== 'default');
  const lines = values.map((name) => `${name}: ${kindOf(module[name])}`);
  for (const name of typeExports(resolve(SRC, file))) if (!values.includes(name)) lines.push(`${name}: type`);
  return [`## ${entry}  (${values.length} values)`, ...lines.sort((a, b) => a.localeCompare(b))].join('\n');
}

describe('@horde/core API surface', () => {
  it('matches the entry points package.json exports', () => {
    const pkg = JSON.parse(readFileSync(resolve(CORE, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    expect(
      Object.keys(pkg.exports)
        .filter((key) => key !== './package.json')
        .sort(),
    ).toEqual(Object.keys(ENTRIES).sort());
  });

  it('is what the snapshot says, entry by entry', async () => {
    const parts: string[] = [];
    for (const [entry, file] of Object.entries(ENTRIES)) parts.push(await surface(entry, file));
    await expect(`${parts.join('\n\n')}\n`).toMatchFileSnapshot('./__snapshots__/api-surface.txt');
  }, 60_000);
});
