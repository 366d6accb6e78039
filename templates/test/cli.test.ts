import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, KIND_IDS, listFiles, REPO, runCli, tempDir } from './scaffold.js';

const TEMPLATE_FILES = [
  '.gitignore',
  'README.md',
  'package.json',
  'src/index.test.ts',
  'src/index.ts',
  'tsconfig.build.json',
  'tsconfig.json',
  'vitest.config.ts',
];

interface GeneratedPackageJson {
  name: string;
  description: string;
  type: string;
  keywords: string[];
  main: string;
  exports: Record<string, { default: string }>;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as GeneratedPackageJson;

let work: string;
beforeAll(() => {
  work = tempDir('cli');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('create-horde-plugin: generating', () => {
  it.each(KIND_IDS)('scaffolds a complete %s package with the names filled in', async (kind) => {
    const run = await runCli(
      [`out-${kind}`, '--kind', kind, '--name', `@acme/horde-plugin-fair-${kind}`, '--no-interactive', '--skip-install'],
      { cwd: work },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const dir = join(work, `out-${kind}`);
    expect(listFiles(dir)).toEqual(TEMPLATE_FILES);

    const pkg = readJson(join(dir, 'package.json'));
    expect(pkg).toMatchObject({
      name: `@acme/horde-plugin-fair-${kind}`,
      type: 'module',
      keywords: expect.arrayContaining(['horde-plugin']),
      main: './dist/index.js',
    });
    expect(pkg.exports['.']?.default).toBe('./dist/index.js');
    expect(pkg.dependencies).toEqual({ '@horde/core': '^0.1.0' });
    expect(pkg.devDependencies).toMatchObject({ typescript: '7.0.2', vitest: '^4.0.0' });
    expect(pkg.scripts).toMatchObject({ build: expect.stringContaining('tsc'), test: 'vitest run' });

    // No token is left anywhere, and the derived names landed in the code.
    for (const file of TEMPLATE_FILES) expect(readFileSync(join(dir, file), 'utf8'), file).not.toMatch(/\{\{\s*\w+\s*\}\}/);
    const source = readFileSync(join(dir, 'src/index.ts'), 'utf8');
    expect(source).toContain(`name: '@acme/horde-plugin-fair-${kind}'`);
    expect(source).toMatch(/export const fair\w+Config = z\.strictObject/);
    expect(source).toContain("from '@horde/core'");
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toMatch(new RegExp(`^# @acme/horde-plugin-fair-${kind}\\n`));
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toContain('node_modules/');
    expect(readFileSync(join(dir, 'vitest.config.ts'), 'utf8')).toContain('oxc: { decorator: { legacy: true } }');
    const tsconfig = readFileSync(join(dir, 'tsconfig.json'), 'utf8');
    for (const option of ['"strict": true', '"module": "NodeNext"', '"experimentalDecorators": true']) expect(tsconfig).toContain(option);

    // The next steps name the directory and the install, test and build commands.
    expect(run.stdout).toContain(`cd out-${kind}`);
    expect(run.stdout).toMatch(/npm install\n\s+npm test\b[^\n]*\n\s+npm run build/);
    expect(run.stdout).toContain(`- name: '@acme/horde-plugin-fair-${kind}'`);
  });

  it('derives the package name from the directory and the class and variable names from the package name', async () => {
    const run = await runCli(['horde-plugin-3d-render', '-k', 'job-generator', '--no-interactive', '--skip-install'], { cwd: work });
    expect(run.code).toBe(0);
    const dir = join(work, 'horde-plugin-3d-render');
    expect(readJson(join(dir, 'package.json')).name).toBe('horde-plugin-3d-render');
    const source = readFileSync(join(dir, 'src/index.ts'), 'utf8');
    // The short name drops the horde-plugin- prefix; identifiers cannot start with a digit.
    expect(source).toContain("export const GENERATOR_NAME = '3d-render';");
    expect(source).toContain('export class Horde3dRenderGenerator implements JobGenerator');
    expect(source).toContain('export const horde3dRenderConfig = z.strictObject');
    expect(run.stdout).not.toContain('Note: horde plugins are found on npm');
  });

  it('writes a description with quotes safely into package.json and the source, and takes --core-version', async () => {
    const description = `Pays "reliable" miners' bonus \\ twice`;
    const run = await runCli(
      [
        'quoted',
        '--kind',
        'scoring-rule',
        '--name',
        'horde-plugin-quoted',
        '--description',
        description,
        '--core-version',
        'file:../horde/core',
        '--no-interactive',
        '--skip-install',
      ],
      { cwd: work },
    );
    expect(run.code).toBe(0);
    const pkg = readJson(join(work, 'quoted/package.json'));
    expect(pkg.description).toBe(description);
    expect(pkg.dependencies['@horde/core']).toBe('file:../horde/core');
    const source = readFileSync(join(work, 'quoted/src/index.ts'), 'utf8');
    const literal = /description: ('(?:[^'\\]|\\.)*'),/.exec(source)?.[1];
    // The TypeScript string literal evaluates back to the exact description.
    expect(literal && (new Function(`return ${literal}`)() as string)).toBe(description);
  });

  it('with --core, depends on @horde/core from a checkout (its root or core/) or a tarball, as file:<absolute path>', async () => {
    const fromRoot = await runCli(
      ['core-root', '--kind', 'scoring-rule', '--name', 'horde-plugin-core-root', '--core', REPO, '--no-interactive', '--skip-install'],
      { cwd: work },
    );
    expect(fromRoot.code, fromRoot.stderr).toBe(0);
    expect(readJson(join(work, 'core-root/package.json')).dependencies['@horde/core']).toBe(`file:${join(REPO, 'core')}`);
    // A checkout has the devnet: the next steps say how to run the plugin on it.
    expect(fromRoot.stdout).toContain(`cd ${REPO.replace(/\/$/, '')} && npx horde devnet --validator-plugin ${join(work, 'core-root')}`);

    const tarball = join(work, 'horde-core-0.1.0.tgz');
    writeFileSync(tarball, '');
    const fromTarball = await runCli(
      [
        'core-tgz',
        '--kind',
        'scoring-rule',
        '--name',
        'horde-plugin-core-tgz',
        '--core',
        './horde-core-0.1.0.tgz',
        '--no-interactive',
        '--skip-install',
      ],
      { cwd: work },
    );
    expect(fromTarball.code, fromTarball.stderr).toBe(0);
    expect(readJson(join(work, 'core-tgz/package.json')).dependencies['@horde/core']).toBe(`file:${tarball}`);
  });

  it('refuses a --core that is no checkout and no tarball, and --core with --core-version', async () => {
    const missing = await runCli(
      ['core-missing', '--kind', 'scoring-rule', '--core', './no-such-checkout', '--no-interactive', '--skip-install'],
      { cwd: work },
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`--core ./no-such-checkout: nothing at ${join(work, 'no-such-checkout')}`);
    expect(existsSync(join(work, 'core-missing'))).toBe(false);

    const notCore = await runCli(
      ['core-wrong', '--kind', 'scoring-rule', '--core', join(REPO, 'plugins'), '--no-interactive', '--skip-install'],
      { cwd: work },
    );
    expect(notCore.stderr).toContain('is neither a horde checkout nor its core/ folder');

    const both = await runCli(
      ['core-both', '--kind', 'scoring-rule', '--core', REPO, '--core-version', '^0.1.0', '--no-interactive', '--skip-install'],
      { cwd: work },
    );
    expect(both.stderr).toContain('Give --core <path> or --core-version <spec>, not both.');
  });

  it('suggests the naming convention for a name outside it', async () => {
    const run = await runCli(['fair-share', '--kind', 'scoring-rule', '--no-interactive', '--skip-install'], { cwd: work });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Note: horde plugins are found on npm by the name horde-plugin-<name>');
    expect(run.stdout).toContain('--name horde-plugin-fair-share');
    expect(run.stdout).toContain('horde.config.yaml of each validator that should use it');
  });

  it('defaults the directory to horde-plugin-<kind> when none is given', async () => {
    const cwd = tempDir('default-dir');
    const run = await runCli(['--kind', 'hardware-class', '--no-interactive', '--skip-install'], { cwd });
    expect(run.code).toBe(0);
    expect(readJson(join(cwd, 'horde-plugin-hardware-class/package.json')).name).toBe('horde-plugin-hardware-class');
    rmSync(cwd, { recursive: true, force: true });
  });

  it('scaffolds into an empty directory and into one holding only .git', async () => {
    mkdirSync(join(work, 'with-git/.git'), { recursive: true });
    const run = await runCli(
      ['with-git', '--kind', 'hardware-class', '--name', 'horde-plugin-with-git', '--no-interactive', '--skip-install'],
      { cwd: work },
    );
    expect(run.code).toBe(0);
    expect(existsSync(join(work, 'with-git/src/index.ts'))).toBe(true);
  });
});

describe('create-horde-plugin: refusing', () => {
  it('refuses a non-empty directory without --overwrite and leaves it alone', async () => {
    const dir = join(work, 'occupied');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const run = await runCli(['occupied', '--kind', 'scoring-rule', '--name', 'horde-plugin-x', '--no-interactive', '--skip-install'], {
      cwd: work,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Target directory ${dir} is not empty`);
    expect(run.stderr).toContain('--overwrite');
    expect(listFiles(dir)).toEqual(['notes.txt']);
  });

  it('with --overwrite, replaces what is there but keeps .git', async () => {
    const dir = join(work, 'replaced');
    mkdirSync(join(dir, '.git'), { recursive: true });
    writeFileSync(join(dir, '.git/HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(dir, 'old.txt'), 'old');
    const run = await runCli(
      ['replaced', '--kind', 'scoring-rule', '--name', 'horde-plugin-x', '--overwrite', '--no-interactive', '--skip-install'],
      { cwd: work },
    );
    expect(run.code).toBe(0);
    expect(existsSync(join(dir, 'old.txt'))).toBe(false);
    expect(readFileSync(join(dir, '.git/HEAD'), 'utf8')).toContain('refs/heads/main');
    expect(existsSync(join(dir, 'src/index.ts'))).toBe(true);
  });

  it('refuses an invalid package name, saying why', async () => {
    const run = await runCli(['bad', '--kind', 'scoring-rule', '--name', 'Horde Plugin', '--no-interactive', '--skip-install'], {
      cwd: work,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Invalid package name "Horde Plugin"');
    expect(run.stderr).toContain('capital letters');
    expect(existsSync(join(work, 'bad'))).toBe(false);
  });

  it('refuses a directory name that is no package name, suggesting --name', async () => {
    const run = await runCli(['My Plugin', '--kind', 'scoring-rule', '--no-interactive', '--skip-install'], { cwd: work });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('pass --name my-plugin');
  });

  it('refuses an unknown kind, listing the kinds', async () => {
    const run = await runCli(['x', '--kind', 'scoring-rules', '--no-interactive'], { cwd: work });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Unknown plugin kind "scoring-rules"');
    expect(run.stderr).toContain('executor-manager, scoring-rule, job-generator, hardware-class, dancing-strategy');
    expect(existsSync(join(work, 'x'))).toBe(false);
  });

  it('refuses to guess the kind when not interactive', async () => {
    const run = await runCli(['x'], { cwd: work });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Missing --kind (not asking: not interactive)');
  });

  it('refuses an unknown option and a second positional argument', async () => {
    const unknown = await runCli(['x', '--knd', 'scoring-rule'], { cwd: work });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("'--knd'");
    expect(unknown.stderr).toContain('--help');
    const two = await runCli(['x', 'y', '--kind', 'scoring-rule'], { cwd: work });
    expect(two.code).toBe(1);
    expect(two.stderr).toContain('Expected one target directory, got 2');
  });

  it('refuses a target that is a file, and a multi-line description', async () => {
    writeFileSync(join(work, 'a-file'), '');
    const file = await runCli(['a-file', '--kind', 'scoring-rule', '--name', 'horde-plugin-x', '--no-interactive'], { cwd: work });
    expect(file.code).toBe(1);
    expect(file.stderr).toContain('exists and is not a directory');
    const multiLine = await runCli(['y', '--kind', 'scoring-rule', '--description', 'one\ntwo', '--no-interactive'], { cwd: work });
    expect(multiLine.code).toBe(1);
    expect(multiLine.stderr).toContain('Invalid --description');
  });
});

describe('create-horde-plugin: help, kinds, prompts, package managers', () => {
  it('prints help and the list of kinds', async () => {
    const help = await runCli(['--help'], { cwd: work });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: npm create horde-plugin@latest [target-dir] -- [options]');
    for (const flag of [
      '--kind',
      '--name',
      '--description',
      '--core',
      '--core-version',
      '--overwrite',
      '--skip-install',
      '--no-interactive',
      '--list',
    ])
      expect(help.stdout).toContain(flag);
    const list = await runCli(['--list'], { cwd: work });
    expect(list.code).toBe(0);
    expect(
      list.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(/\s+/)[0]),
    ).toEqual([...KIND_IDS]);
    expect(list.stdout).toContain('ScoringRule (validator)');
  });

  it('asks for what the flags leave out when interactive', async () => {
    // kind (by number), directory, package name (the directory name is no valid one), description.
    const input = '9\n2\nAsked Dir\nHorde Plugin\nhorde-plugin-asked\nAsked for "it"\n';
    const run = await runCli(['--interactive', '--skip-install'], { cwd: work, input });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Which kind of plugin?');
    expect(run.stdout).toContain('"9" is not one of the choices.');
    expect(run.stdout).toContain('"Horde Plugin" will not do: it contains capital letters');
    const pkg = readJson(join(work, 'Asked Dir/package.json'));
    expect(pkg.name).toBe('horde-plugin-asked');
    expect(pkg.description).toBe('Asked for "it"');
    expect(readFileSync(join(work, 'Asked Dir/src/index.ts'), 'utf8')).toContain('SCORING_RULE');
    expect(run.stdout).toContain('cd "Asked Dir"');
  });

  it('asks before emptying a non-empty directory, and stops on no', async () => {
    const dir = join(work, 'ask-overwrite');
    mkdirSync(dir);
    writeFileSync(join(dir, 'keep.txt'), 'mine');
    const run = await runCli(['ask-overwrite', '--kind', 'scoring-rule', '--name', 'horde-plugin-x', '--interactive', '--skip-install'], {
      cwd: work,
      input: 'n\n',
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('is not empty. Remove its files (except .git) and continue? (y/N)');
    expect(run.stderr).toContain('Cancelled');
    expect(listFiles(dir)).toEqual(['keep.txt']);
  });

  it('stops cleanly when the input ends before an answer', async () => {
    const run = await runCli(['--interactive'], { cwd: work, input: '' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Cancelled: no answer');
  });

  it.each([
    ['pnpm/9.12.0 npm/? node/v20.19.0 linux x64', 'pnpm install', 'pnpm test', 'pnpm build'],
    ['yarn/1.22.22 npm/? node/v20.19.0 linux x64', 'yarn install', 'yarn test', 'yarn build'],
    ['bun/1.1.30 npm/? node/v20.19.0 linux x64', 'bun install', 'bun run test', 'bun run build'],
    ['npm/11.0.0 node/v20.19.0 linux x64 workspaces/false', 'npm install', 'npm test', 'npm run build'],
  ])('tells a user of %s to run its commands', async (agent, install, test, build) => {
    const dir = `pm-${agent.split('/')[0]}`;
    const run = await runCli([dir, '--kind', 'scoring-rule', '--name', 'horde-plugin-pm', '--no-interactive', '--skip-install'], {
      cwd: work,
      env: { npm_config_user_agent: agent },
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`\n  ${install}\n  ${test} `);
    expect(run.stdout).toContain(`\n  ${build} `);
  });
});

describe('create-horde-plugin: install', () => {
  // A stand-in for the package manager on PATH that records how it was called: the real one
  // would fetch packages from the registry, which tests cannot reach.
  function fakePackageManager(name: string, exitCode: number): { bin: string; log: string } {
    const bin = join(work, `pm-bin-${name}-${exitCode}`);
    mkdirSync(bin);
    const log = join(bin, 'calls.log');
    writeFileSync(join(bin, name), `#!/bin/sh\necho "$PWD $*" >> "${log}"\nexit ${exitCode}\n`);
    chmodSync(join(bin, name), 0o755);
    return { bin, log };
  }

  it("runs the detected package manager's install in the new package", async () => {
    const pm = fakePackageManager('pnpm', 0);
    const run = await runCli(['installed', '--kind', 'hardware-class', '--name', 'horde-plugin-installed', '--no-interactive'], {
      cwd: work,
      env: { PATH: `${pm.bin}:${process.env.PATH}`, npm_config_user_agent: 'pnpm/9.12.0 npm/? node/v20.19.0 linux x64' },
    });
    expect(run.code).toBe(0);
    expect(readFileSync(pm.log, 'utf8')).toBe(`${join(work, 'installed')} install\n`);
    expect(run.stdout).toContain('Installing dependencies: pnpm install');
    // Installed already: the next steps do not repeat it.
    expect(run.stdout).not.toMatch(/\n {2}pnpm install\n/);
  });

  it('reports a failed install with the way forward, keeping the files', async () => {
    const pm = fakePackageManager('npm', 3);
    const run = await runCli(['install-fails', '--kind', 'hardware-class', '--name', 'horde-plugin-install-fails', '--no-interactive'], {
      cwd: work,
      env: { PATH: `${pm.bin}:${process.env.PATH}` },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('npm install failed (exit code 3). The files are in place');
    expect(existsSync(join(work, 'install-fails/src/index.ts'))).toBe(true);
    // With the registry default, @horde/core may not be published where npm looks: --core is the fix.
    expect(run.stderr).toContain('scaffold again with --core <path to your horde checkout> (or a @horde/core tarball from npm pack)');
    expect(run.stderr).toContain('"@horde/core": "file:<path to the checkout>/core"');
  });
});

describe('create-horde-plugin: the published package', () => {
  it('packs the CLI and every template, and scaffolds from the unpacked tarball', () => {
    const dir = tempDir('pack');
    const packed = spawnSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: join(REPO, 'templates'), encoding: 'utf8' });
    expect(packed.status, packed.stderr).toBe(0);
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    const paths = info!.files.map((file) => file.path);
    for (const kind of KIND_IDS) {
      for (const file of [
        '_gitignore',
        'package.json',
        'README.md',
        'src/index.ts',
        'src/index.test.ts',
        'tsconfig.json',
        'tsconfig.build.json',
        'vitest.config.ts',
      ]) {
        expect(paths).toContain(`template-${kind}/${file}`);
      }
    }
    expect(paths.filter((path) => path.startsWith('test/'))).toEqual([]);
    const unpacked = spawnSync('tar', ['xzf', join(dir, info!.filename), '-C', dir], { encoding: 'utf8' });
    expect(unpacked.status, unpacked.stderr).toBe(0);
    // npm runs the bin of the unpacked package: the same script, another place on disk.
    const bin = join(dir, 'package/index.mjs');
    expect(readFileSync(bin, 'utf8')).toBe(readFileSync(CLI, 'utf8'));
    const run = spawnSync(
      process.execPath,
      [bin, 'from-tarball', '--kind', 'job-generator', '--name', 'horde-plugin-from-tarball', '--no-interactive', '--skip-install'],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(listFiles(join(dir, 'from-tarball'))).toEqual(TEMPLATE_FILES);
    rmSync(dir, { recursive: true, force: true });
  });
});
