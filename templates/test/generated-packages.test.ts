/**
 * The generated packages as their authors get them: type-checked with their own tsconfig.json
 * against @horde/core's published types, built with `npm run build`'s command, loaded from the
 * built package directory, and their own test files run by vitest. Dependencies come from this
 * workspace (a `node_modules` link beside the packages), as `npm install` would provide them.
 *
 * Type-checking uses core/dist (what the published @horde/core ships): run `npm run build` first
 * (`npm test` does).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsRegistry, createRuntimeContainer, loadPlugins, parseConfig, silentLogger, SystemClock } from '@horde/core/runtime';
import { writeLockfileFromRoot } from './root-lockfile.js';
import { KIND_IDS, REPO, scaffoldAll, tempDir, type KindId } from './scaffold.js';

const TSC = join(REPO, 'node_modules/typescript/bin/tsc');
const VITEST = join(REPO, 'node_modules/vitest/vitest.mjs');

interface Run {
  readonly code: number | null;
  readonly output: string;
}

function run(args: readonly string[], cwd: string, command: string = process.execPath): Promise<Run> {
  // The nested tools must not think they run inside this vitest worker, nor inside `npm test`;
  // npm's cache stays the one this run uses (where `npm ci` put the tarballs the install needs).
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => /^npm_config_cache$/i.test(key) || !/^(VITEST|TEST$|NODE_ENV$|npm_)/i.test(key)),
  );
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

let work: string;
let packages: Record<KindId, string>;

beforeAll(async () => {
  work = tempDir('packages');
  // A description with quotes on purpose: it lands in package.json and in a TypeScript string.
  packages = await scaffoldAll(work, ['--description', `A "quoted" plugin's description`]);
  symlinkSync(join(REPO, 'node_modules'), join(work, 'node_modules'), 'dir');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('generated packages', () => {
  it("type-check with their own tsconfig.json, tests included, against @horde/core's types", async () => {
    for (const entry of ['core/dist/index.d.ts', 'core/dist/testkit/index.d.ts']) {
      if (!existsSync(join(REPO, entry))) throw new Error(`${entry} is missing: run npm run build first (npm test does)`);
    }
    for (const kind of KIND_IDS) {
      const result = await run([TSC, '-p', packages[kind], '--noEmit'], work);
      expect(result.output, `tsc in gen-${kind}`).toBe('');
      expect(result.code).toBe(0);
    }
  }, 120_000);

  it('build into dist/, without the tests, and load from the package directory', async () => {
    for (const kind of KIND_IDS) {
      const dir = packages[kind];
      const script = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts: { build: string } }).scripts.build;
      expect(script).toBe('tsc -p tsconfig.build.json');
      const result = await run([TSC, '-p', 'tsconfig.build.json'], dir);
      expect(result.output, `build of gen-${kind}`).toBe('');
      expect(existsSync(join(dir, 'dist/index.js'))).toBe(true);
      expect(existsSync(join(dir, 'dist/index.d.ts'))).toBe(true);
      expect(existsSync(join(dir, 'dist/index.test.js'))).toBe(false);
    }
    // A config naming the package directories: the loader finds dist/index.js through package.json.
    const config = parseConfig({ plugins: KIND_IDS.map((kind) => `./gen-${kind}`) }, { baseDir: work });
    const root = createRuntimeContainer({
      config,
      logger: silentLogger(),
      metrics: createMetricsRegistry({ defaultMetrics: false }),
      clock: new SystemClock(),
    });
    const loaded = await loadPlugins(config, root);
    expect(loaded.plugins.map((plugin) => [plugin.name, plugin.path, plugin.provides.map((p) => p.contract)])).toEqual([
      ['horde-plugin-gen-executor-manager', join(packages['executor-manager'], 'dist/index.js'), ['ExecutorManager']],
      ['horde-plugin-gen-scoring-rule', join(packages['scoring-rule'], 'dist/index.js'), ['ScoringRule']],
      ['horde-plugin-gen-job-generator', join(packages['job-generator'], 'dist/index.js'), ['JobGenerator']],
      ['horde-plugin-gen-hardware-class', join(packages['hardware-class'], 'dist/index.js'), ['HardwareClass']],
      ['horde-plugin-gen-dancing-strategy', join(packages['dancing-strategy'], 'dist/index.js'), ['DancingStrategy']],
    ]);
    expect(loaded.plugins[1]).toMatchObject({ description: `A "quoted" plugin's description` });
  }, 120_000);

  it('pass their own tests', async () => {
    // The packages' vitest.config.ts plus what `npm install` would do: @horde/core from this workspace's sources.
    const configPath = join(work, 'vitest.generated.config.mjs');
    writeFileSync(
      configPath,
      `import { defineConfig } from 'vitest/config';
export default defineConfig({
  oxc: { decorator: { legacy: true } },
  resolve: { alias: [
    { find: /^@horde\\/core$/, replacement: ${JSON.stringify(join(REPO, 'core/src/index.ts'))} },
    { find: /^@horde\\/core\\/testkit$/, replacement: ${JSON.stringify(join(REPO, 'core/src/testkit/index.ts'))} },
  ] },
  test: { include: ['gen-*/src/**/*.test.ts'], testTimeout: 30000, maxWorkers: 2 },
});
`,
    );
    const report = join(work, 'vitest-report.json');
    const result = await run([VITEST, 'run', '--root', work, '--config', configPath, '--reporter=json', `--outputFile=${report}`], work);
    expect(existsSync(report), result.output).toBe(true);
    const summary = JSON.parse(readFileSync(report, 'utf8')) as {
      numFailedTests: number;
      numPassedTests: number;
      testResults: { name: string; status: string; assertionResults: { title: string; status: string }[] }[];
    };
    const failures = summary.testResults.flatMap((file) =>
      file.assertionResults.filter((a) => a.status !== 'passed').map((a) => `${file.name}: ${a.title}`),
    );
    expect(failures, result.output).toEqual([]);
    expect(result.code).toBe(0);
    // Every package's test file ran, and the executor manager ran the whole contract suite.
    expect(summary.testResults.map((file) => file.name.slice(work.length + 1)).sort()).toEqual(
      KIND_IDS.map((kind) => `gen-${kind}/src/index.test.ts`).sort(),
    );
    expect(summary.testResults.every((file) => file.status === 'passed')).toBe(true);
    const manager = summary.testResults.find((file) => file.name.includes('gen-executor-manager'));
    expect(manager?.assertionResults.filter((a) => a.status === 'passed').length).toBeGreaterThanOrEqual(8);
  }, 180_000);
});

describe('a generated package, as its author uses it', () => {
  it("installs with npm against this checkout's core (file:), then npm test, typecheck and build pass", async () => {
    const dir = tempDir('npm');
    try {
      const scaffold = await run(
        [
          join(REPO, 'templates/index.mjs'),
          'horde-plugin-e2e',
          '--kind',
          'executor-manager',
          '--core-version',
          `file:${join(REPO, 'core')}`,
          '--no-interactive',
          '--skip-install',
        ],
        dir,
      );
      expect(scaffold.code, scaffold.output).toBe(0);
      const pkg = join(dir, 'horde-plugin-e2e');
      // Offline: the registry is out of reach in tests. A lockfile cut out of this repository's pins
      // the versions `npm ci` installed here, so npm needs only their tarballs, which `npm ci` cached
      // (without it npm would need packuments, which no earlier step caches on a fresh machine).
      writeLockfileFromRoot(pkg, REPO);
      const install = await run(['install', '--offline', '--no-audit', '--no-fund'], pkg, 'npm');
      expect(install.code, install.output).toBe(0);
      // The package's own vitest.config.ts, and @horde/core as installed (its dist/), with no alias.
      for (const script of ['test', 'typecheck', 'build']) {
        const result = await run(['run', script], pkg, 'npm');
        expect(result.code, `npm run ${script}:\n${result.output}`).toBe(0);
      }
      expect(existsSync(join(pkg, 'dist/index.js'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
