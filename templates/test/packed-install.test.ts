/**
 * The scaffolder and @horde/core as a plugin author outside this repository gets them: both packed
 * with `npm pack`, the scaffolder run from its tarball with `npm exec` (what `npm create
 * horde-plugin` does once it is published), one package of every kind generated against the core
 * tarball with `--core`, installed with `npm install --offline` from that tarball, and each
 * package's own tests and build run by npm. Offline and independent of what npm's cache holds
 * beyond what `npm ci` of this repository put there (see offline-lockfile.ts). Needs
 * `npm run build` (core is packed from core/dist).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeOfflineWorkspace } from './offline-lockfile.js';
import { KIND_IDS, REPO, tempDir } from './scaffold.js';

interface Run {
  readonly code: number | null;
  readonly output: string;
}

function npm(args: readonly string[], cwd: string): Promise<Run> {
  // Nothing of the surrounding `npm test` or vitest: the nested npm runs as a user's would.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(VITEST|TEST$|NODE_ENV$|npm_|INIT_CWD$)/i.test(key)));
  return new Promise((resolve, reject) => {
    const child = spawn('npm', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** `npm pack --json` of a workspace into `dir`; the tarball's path. */
async function pack(workspace: string, dir: string): Promise<string> {
  const packed = await npm(['pack', '--json', '--pack-destination', dir, '-w', workspace], REPO);
  expect(packed.code, packed.output).toBe(0);
  const [info] = JSON.parse(packed.output.slice(packed.output.indexOf('['))) as { filename: string }[];
  return join(dir, info!.filename);
}

let work: string;
beforeAll(() => {
  if (!existsSync(join(REPO, 'core/dist/index.js'))) throw new Error('core/dist is missing: run npm run build first (npm test does)');
  work = tempDir('packed');
});
// Several hundred MB of node_modules: removing them takes a while on a busy machine.
afterAll(() => rm(work, { recursive: true, force: true }), 300_000);

describe('a plugin package made from the packed scaffolder, installed from the packed core', () => {
  it('scaffolds every kind with npm exec, installs offline from the core tarball, and passes its own tests and build', async () => {
    const coreTarball = await pack('core', work);
    const scaffolderTarball = await pack('templates', work);
    expect(coreTarball).toMatch(/horde-core-0\.1\.0\.tgz$/);

    const packageDirs: string[] = [];
    for (const kind of KIND_IDS) {
      const name = `gen-${kind}`;
      const scaffold = await npm(
        [
          'exec',
          '--offline',
          '--yes',
          `--package=${scaffolderTarball}`,
          '--',
          'create-horde-plugin',
          name,
          '--kind',
          kind,
          '--name',
          `horde-plugin-${name}`,
          '--core',
          coreTarball,
          '--no-interactive',
          '--skip-install',
        ],
        work,
      );
      expect(scaffold.code, scaffold.output).toBe(0);
      const manifest = JSON.parse(readFileSync(join(work, name, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
      expect(manifest.dependencies['@horde/core']).toBe(`file:${coreTarball}`);
      packageDirs.push(join(work, name));
    }

    writeOfflineWorkspace({ repo: REPO, root: work, packageDirs, coreTarball });
    // Install scripts stay off: no package of a plugin's tests needs a native build.
    const install = await npm(['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], work);
    expect(install.code, install.output).toBe(0);
    // @horde/core is the packed one, unpacked into node_modules (not a link to this checkout).
    expect(existsSync(join(work, 'node_modules/@horde/core/dist/index.js'))).toBe(true);
    expect(JSON.parse(readFileSync(join(work, 'node_modules/@horde/core/package.json'), 'utf8'))).toMatchObject({
      name: '@horde/core',
      version: '0.1.0',
    });

    for (const kind of KIND_IDS) {
      for (const script of ['test', 'build']) {
        const result = await npm(['run', script, '-w', `gen-${kind}`], work);
        expect(result.code, `npm run ${script} in gen-${kind}:\n${result.output}`).toBe(0);
      }
      expect(existsSync(join(work, `gen-${kind}`, 'dist/index.js'))).toBe(true);
    }
  }, 600_000);
});
