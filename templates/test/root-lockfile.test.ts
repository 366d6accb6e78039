import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RootLockfileMismatchError, writeLockfileFromRoot } from './root-lockfile.js';
import { REPO, runCli, tempDir } from './scaffold.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function generated(): Promise<string> {
  const dir = tempDir('lock');
  dirs.push(dir);
  const run = await runCli(['gen', '--kind', 'scoring-rule', '--name', 'horde-plugin-gen', '--no-interactive', '--skip-install'], {
    cwd: dir,
  });
  expect(run.code, run.stderr).toBe(0);
  return join(dir, 'gen');
}

describe('writeLockfileFromRoot', () => {
  it("pins the template's devDependencies at the root lockfile's versions and links @horde/core", async () => {
    const pkg = await generated();
    writeLockfileFromRoot(pkg, REPO);
    const lock = JSON.parse(readFileSync(join(pkg, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string; link?: boolean; resolved?: string }>;
    };
    const root = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
    for (const name of ['vitest', 'typescript', '@types/node']) {
      expect(lock.packages[`node_modules/${name}`]?.version, name).toBe(root.packages[`node_modules/${name}`]?.version);
    }
    expect(lock.packages['node_modules/@horde/core']).toMatchObject({ link: true });
    // Everything vitest needs at run time came along (a missing one would make npm go to the registry).
    expect(lock.packages['node_modules/@vitest/runner']?.version).toBe(root.packages['node_modules/@vitest/runner']?.version);
    // Nothing the template does not need: core's own dependencies stay in the repository.
    expect(lock.packages['node_modules/knex']).toBeUndefined();
  });

  it('refuses a template whose range the root lockfile does not satisfy, naming both versions', async () => {
    const pkg = await generated();
    const manifestPath = join(pkg, 'package.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { devDependencies: Record<string, string> };
    manifest.devDependencies.vitest = '^99.0.0';
    writeFileSync(manifestPath, JSON.stringify(manifest));
    expect(() => writeLockfileFromRoot(pkg, REPO)).toThrow(RootLockfileMismatchError);
    expect(() => writeLockfileFromRoot(pkg, REPO)).toThrow(/vitest@\^99\.0\.0.*has 4\./);
  });

  it('refuses a dependency the root lockfile does not have', async () => {
    const pkg = await generated();
    const manifestPath = join(pkg, 'package.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { devDependencies: Record<string, string> };
    manifest.devDependencies['left-pad-never-installed'] = '^1.0.0';
    writeFileSync(manifestPath, JSON.stringify(manifest));
    expect(() => writeLockfileFromRoot(pkg, REPO)).toThrow(/left-pad-never-installed@\^1\.0\.0.*not in the root package-lock\.json/);
  });
});
