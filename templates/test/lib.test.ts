import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../lib/args.mjs';
import { copyTemplate, substitute } from '../lib/copy.mjs';
import { DEFAULT_CORE_VERSION } from '../lib/core-version.mjs';
import { KINDS, templateDir } from '../lib/kinds.mjs';
import { deriveNames } from '../lib/names.mjs';
import { detectPackageManager } from '../lib/package-manager.mjs';
import { followsNamingConvention, packageNameProblems, toValidPackageName } from '../lib/validate.mjs';
import { KIND_IDS, REPO, tempDir } from './scaffold.js';

const tokens = {
  name: 'fair-share',
  packageName: '@acme/horde-plugin-fair-share',
  description: 'It\'s "fair"',
  className: 'FairShare',
  pluginVar: 'fairShare',
  coreVersion: '^0.1.0',
};

describe('package names', () => {
  it.each(['horde-plugin-x', '@acme/horde-plugin-x', 'a.b_c~d-1', 'x'])('accepts %s', (name) => {
    expect(packageNameProblems(name)).toEqual([]);
  });
  it.each([
    ['', 'empty'],
    ['Horde', 'capital'],
    ['.hidden', 'dot'],
    ['_private', 'underscore'],
    ['fs', 'reserved'],
    ['node_modules', 'reserved'],
    ['a b', 'only lower-case'],
    ['@acme/x/y', 'only lower-case'],
    ['x'.repeat(215), '214'],
  ])('refuses %j (%s)', (name, why) => {
    expect(packageNameProblems(name).join(' ')).toContain(why);
  });
  it('suggests a valid name for a directory name', () => {
    expect(toValidPackageName('My Fancy Plugin!')).toBe('my-fancy-plugin');
    expect(toValidPackageName('..')).toBe('horde-plugin-example');
    expect(packageNameProblems(toValidPackageName('__Weird  NAME__'))).toEqual([]);
  });
  it('knows the naming convention', () => {
    expect(followsNamingConvention('horde-plugin-x')).toBe(true);
    expect(followsNamingConvention('@acme/horde-plugin-x')).toBe(true);
    expect(followsNamingConvention('@horde/plugin-x')).toBe(true);
    expect(followsNamingConvention('horde-plugin-')).toBe(false);
    expect(followsNamingConvention('my-plugin')).toBe(false);
  });
});

describe('derived names', () => {
  it.each([
    ['@acme/horde-plugin-fair-share', { name: 'fair-share', className: 'FairShare', pluginVar: 'fairShare' }],
    ['horde-gpu.pool_v2', { name: 'gpu.pool_v2', className: 'GpuPoolV2', pluginVar: 'gpuPoolV2' }],
    ['horde-plugin-3d', { name: '3d', className: 'Horde3d', pluginVar: 'horde3d' }],
    ['horde-plugin', { name: 'plugin', className: 'Plugin', pluginVar: 'plugin' }],
    ['horde-', { name: 'horde-', className: 'Horde', pluginVar: 'horde' }],
    ['~~', { name: '~~', className: 'Plugin', pluginVar: 'plugin' }],
  ])('%s', (packageName, expected) => {
    expect(deriveNames(packageName)).toEqual(expected);
  });
});

describe('package manager detection', () => {
  it('reads npm_config_user_agent, falling back to npm', () => {
    expect(detectPackageManager('pnpm/9.12.0 npm/? node/v20.19.0 linux x64')).toMatchObject({
      name: 'pnpm',
      version: '9.12.0',
      install: ['pnpm', 'install'],
    });
    expect(detectPackageManager('yarn/4.5.0 npm/? node/v20.19.0')).toMatchObject({ name: 'yarn', version: '4.5.0' });
    expect(detectPackageManager(undefined)).toMatchObject({ name: 'npm', version: undefined });
    expect(detectPackageManager('cnpm/9 node/v20')).toMatchObject({ name: 'npm', version: undefined });
    expect(detectPackageManager('bun/1.1.0').run('test')).toBe('bun run test');
    expect(detectPackageManager('npm/11.0.0').run('test')).toBe('npm test');
  });
});

describe('token substitution', () => {
  it('fills in tokens, escaped for the file they land in', () => {
    expect(substitute('# {{packageName}}: {{ description }}', tokens, 'README.md')).toBe('# @acme/horde-plugin-fair-share: It\'s "fair"');
    expect(JSON.parse(substitute('{"d": "{{description}}"}', tokens, 'package.json'))).toEqual({ d: 'It\'s "fair"' });
    expect(substitute("const d = '{{description}}';", tokens, 'src/index.ts')).toBe("const d = 'It\\'s \\\"fair\\\"';");
  });
  it('refuses an unknown token instead of leaving it in a file', () => {
    expect(() => substitute('{{pluginName}}', tokens, 'src/index.ts')).toThrow(
      'template file src/index.ts uses unknown token {{pluginName}}',
    );
  });
  it('uses only known tokens in every template file', async () => {
    const dir = tempDir('tokens');
    try {
      for (const kind of KINDS)
        await expect(copyTemplate(templateDir(kind), join(dir, kind.id), tokens)).resolves.toContain('src/index.ts');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('arguments', () => {
  it('parses flags, short forms and negations', () => {
    expect(parseCliArgs(['dir', '-k', 'scoring-rule', '-n', 'horde-plugin-x', '--no-interactive', '--skip-install'])).toMatchObject({
      targetDir: 'dir',
      kind: 'scoring-rule',
      name: 'horde-plugin-x',
      interactive: false,
      skipInstall: true,
      overwrite: false,
    });
    expect(parseCliArgs([]).interactive).toBeUndefined();
    expect(parseCliArgs(['-i']).interactive).toBe(true);
  });
});

describe('templates', () => {
  it('has one template folder per kind, in the order --list shows them', () => {
    expect(KINDS.map((kind) => kind.id)).toEqual([...KIND_IDS]);
  });

  it('keeps the files every package shares identical across kinds', () => {
    for (const file of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'vitest.config.ts', '_gitignore']) {
      const [first, ...rest] = KINDS.map((kind) => readFileSync(`${templateDir(kind)}${file}`, 'utf8'));
      for (const other of rest) expect(other, file).toBe(first);
    }
  });

  it("depends by default on a @horde/core range that includes this workspace's core", () => {
    const core = JSON.parse(readFileSync(`${REPO}core/package.json`, 'utf8')) as { version: string };
    expect(semver.satisfies(core.version, DEFAULT_CORE_VERSION)).toBe(true);
  });

  it("keeps the CLI's JSDoc types consistent (tsc --checkJs, strict)", () => {
    const result = spawnSync(process.execPath, [`${REPO}node_modules/typescript/bin/tsc`, '-p', `${REPO}templates`], { encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('ships the CLI, its modules and the templates, and nothing else', () => {
    const pkg = JSON.parse(readFileSync(`${REPO}templates/package.json`, 'utf8')) as Record<string, unknown>;
    expect(pkg).toMatchObject({
      name: 'create-horde-plugin',
      type: 'module',
      bin: { 'create-horde-plugin': 'index.mjs' },
      files: ['index.mjs', 'lib', 'template-*/**'],
      engines: { node: '>=20.19' },
    });
    expect(pkg.dependencies).toBeUndefined();
  });
});
