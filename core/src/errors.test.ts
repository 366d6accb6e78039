/**
 * The error catalogue is the one list of horde's codes: every class made by `defineError` uses a
 * catalogue code, no code is defined twice, no catalogue entry is left without a user, the table
 * in CONTRIBUTING.md is the catalogue's, and no source file throws a bare `Error`.
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defineError, ERROR_CATALOGUE, errorCatalogueTable, HordeError } from './errors.js';
import { ConfigError } from './config/errors.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** Every tracked TypeScript source file of the packages (tests and test helpers left out). */
function sourceFiles(): { path: string; text: string }[] {
  const listed = execFileSync(
    'git',
    ['ls-files', '--cached', '--others', '--exclude-standard', 'core/src', 'plugins', 'executor-managers', 'libs'],
    { cwd: REPO, encoding: 'utf8' },
  );
  return listed
    .split('\n')
    .filter(
      (path) =>
        path.endsWith('.ts') &&
        path.includes('/src/') &&
        !path.endsWith('.test.ts') &&
        !path.includes('__tests__') &&
        !path.endsWith('.d.ts'),
    )
    .map((path) => ({ path, text: readFileSync(`${REPO}/${path}`, 'utf8') }));
}

describe('defineError', () => {
  class SampleError extends defineError('HORDE_OBJECT_NOT_FOUND') {}
  class WithField extends defineError('HORDE_IMAGE_NOT_FOUND') {
    constructor(readonly image: string) {
      super(`image ${image} is not there`);
    }
  }

  it('makes classes that keep their name, their code and instanceof', () => {
    const error = new SampleError('no such key', { cause: 'underneath' });
    expect(error).toBeInstanceOf(SampleError);
    expect(error).toBeInstanceOf(HordeError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('SampleError');
    expect(error.code).toBe('HORDE_OBJECT_NOT_FOUND');
    expect(error.message).toBe('no such key');
    expect(error.cause).toBe('underneath');
    expect(SampleError.code).toBe('HORDE_OBJECT_NOT_FOUND');
    expect(new WithField('busybox').image).toBe('busybox');
    expect(new WithField('busybox')).not.toBeInstanceOf(SampleError);
  });

  it("defaults the message to the catalogue's summary", () => {
    expect(new SampleError().message).toBe(ERROR_CATALOGUE.HORDE_OBJECT_NOT_FOUND);
    expect(SampleError.summary).toBe(ERROR_CATALOGUE.HORDE_OBJECT_NOT_FOUND);
  });

  it('families take their codes from the catalogue', () => {
    expect(new ConfigError('HORDE_CONFIG_INVALID', 'bad').code).toBe('HORDE_CONFIG_INVALID');
  });
});

describe('the catalogue', () => {
  const files = sourceFiles();
  const defined = files.flatMap(({ path, text }) => [...text.matchAll(/defineError\('([A-Z0-9_]+)'/g)].map((m) => ({ code: m[1]!, path })));

  it('has every code under the HORDE_ prefix, each with a summary', () => {
    for (const [code, summary] of Object.entries(ERROR_CATALOGUE)) {
      expect(code).toMatch(/^HORDE_[A-Z0-9_]+$/);
      expect(summary.length).toBeGreaterThan(10);
    }
  });

  it('gives each code one class: no two defineError calls share a code', () => {
    const seen = new Map<string, string>();
    const twice: string[] = [];
    for (const { code, path } of defined) {
      if (path === 'core/src/errors.ts') continue;
      if (seen.has(code)) twice.push(`${code}: ${seen.get(code)} and ${path}`);
      seen.set(code, path);
    }
    expect(twice).toEqual([]);
  });

  it('has no entry that no source file uses', () => {
    const outsideCatalogue = files
      .filter(({ path }) => path !== 'core/src/error-catalogue.ts')
      .map(({ text }) => text)
      .join('\n');
    expect(Object.keys(ERROR_CATALOGUE).filter((code) => !outsideCatalogue.includes(`'${code}'`))).toEqual([]);
  });

  it('is the table in CONTRIBUTING.md (npm run errors:table rewrites it)', () => {
    const contributing = readFileSync(`${REPO}/CONTRIBUTING.md`, 'utf8');
    const table = /<!-- error-table:start -->\n([\s\S]*?)\n<!-- error-table:end -->/.exec(contributing)?.[1];
    expect(table).toBe(errorCatalogueTable());
  });

  it('leaves no bare `throw new Error` in source', () => {
    const bare = files.flatMap(({ path, text }) =>
      text.split('\n').flatMap((line, i) => (/throw new Error\(/.test(line) ? [`${path}:${i + 1}`] : [])),
    );
    expect(bare).toEqual([]);
  });
});
