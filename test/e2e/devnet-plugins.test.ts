/**
 * What a plugin author does, following the README: scaffold an executor manager and a scoring
 * rule with the scaffolder, build them, and run them on a devnet with `--miner-plugin` and
 * `--validator-plugin`. Every miner must then run its executors through the scaffolded manager
 * (no local manager in its config), the validator must apply the scaffolded rule, jobs complete,
 * weights land on the LocalChain, every process listens inside `--ports`, and the output names
 * the plugins. Needs `npm run build` (the devnet runs core/dist).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePorts } from '../../core/src/devnet/ports.js';
import { horde, readSummary, ROOT, SHORT_DEVNET, tempDirs } from '../support/devnet.js';
import { requireBuiltCli } from '../support/miner-harness.js';

const dirs = tempDirs();
afterAll(() => dirs.cleanup());

function run(command: string, args: readonly string[], cwd: string): Promise<{ code: number | null; output: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(VITEST|TEST$|NODE_ENV$|npm_)/i.test(key)));
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** Scaffolds a package of `kind` in `work` and builds it with its own build script's command. */
async function scaffoldAndBuild(work: string, name: string, kind: string): Promise<string> {
  const scaffold = await run(
    process.execPath,
    [
      join(ROOT, 'templates/index.mjs'),
      name,
      '--kind',
      kind,
      '--core-version',
      `file:${join(ROOT, 'core')}`,
      '--no-interactive',
      '--skip-install',
    ],
    work,
  );
  expect(scaffold.code, scaffold.output).toBe(0);
  const dir = join(work, name);
  const build = await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], dir);
  expect(build.code, build.output).toBe(0);
  return dir;
}

describe('horde devnet with a scaffolded executor manager and scoring rule', () => {
  it('runs every miner on the manager and the validator with the rule: jobs complete, weights land, ports stay in range', async () => {
    requireBuiltCli();
    const work = dirs.make('horde-devnet-plugins-');
    // What `npm install` gives the packages: @horde/core (here: this checkout's, through the workspace).
    symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'), 'dir');
    const manager = await scaffoldAndBuild(work, 'horde-plugin-my-pool', 'executor-manager');
    const rule = await scaffoldAndBuild(work, 'horde-plugin-my-bonus', 'scoring-rule');

    const [base] = await freePorts(1);
    const from = Math.min(base!, 65_000);
    const ports = `${from}-${from + 20}`;
    const dataDir = join(work, 'run');
    const jsonFile = join(work, 'summary.json');
    const devnet = await horde(
      [
        'devnet',
        '--miners',
        '2',
        '--cycles',
        '1',
        '--miner-plugin',
        manager,
        '--validator-plugin',
        rule,
        '--ports',
        ports,
        '--data-dir',
        dataDir,
        '--json',
        jsonFile,
        ...SHORT_DEVNET,
      ],
      120_000,
    );
    expect(devnet.code, `${devnet.stdout}\n${devnet.stderr}`).toBe(0);
    expect(devnet.stdout).toContain('executor manager horde-plugin-my-pool, instead of @horde/executor-manager-local');
    expect(devnet.stdout).toContain(`Plugins of the validator: ${rule}`);

    const summary = readSummary(jsonFile);
    expect(summary.settings).toMatchObject({
      executorManager: 'horde-plugin-my-pool',
      minerPlugins: [manager],
      validatorPlugins: [rule],
      ports,
    });
    for (const miner of summary.miners) {
      // The scaffolded manager declares one always_on.test executor.
      expect(miner.jobs, miner.name).toMatchObject({ sent: 1, completed: 1, correct: 1, failed: 0 });
      expect(miner.chainWeight).toBeGreaterThan(0);
      // The scaffolded rule's bonus shows in its own column.
      expect(miner.points['my-bonus'], JSON.stringify(miner.points)).toBeGreaterThan(0);
    }
    // Each miner ran the scaffolded manager only, and listened inside the range.
    for (const name of ['miner-1', 'miner-2']) {
      const config = JSON.parse(readFileSync(join(dataDir, 'config', `${name}.json`), 'utf8')) as {
        plugins: (string | { name: string })[];
        miner: { port: number };
      };
      const names = config.plugins.map((plugin) => (typeof plugin === 'string' ? plugin : plugin.name));
      expect(names).toContain(manager);
      expect(names).not.toContain('@horde/executor-manager-local');
      expect(config.miner.port).toBeGreaterThanOrEqual(from);
      expect(config.miner.port).toBeLessThanOrEqual(from + 20);
      expect(readFileSync(join(dataDir, 'logs', `${name}.log`), 'utf8')).toContain('"plugin":"horde-plugin-my-pool"');
    }
  }, 240_000);
});

describe('horde devnet plugin and port flags', () => {
  it('refuses a bad --ports, a --miner-plugin that is no plugin, and two executor managers, before anything starts', async () => {
    requireBuiltCli();
    const work = dirs.make('horde-devnet-plugin-flags-');
    const dataDir = join(work, 'never');
    const manager = (name: string) =>
      `export default { [Symbol.for('horde.plugin')]: true, name: '${name}', version: '1.0.0', apiRange: '^1.0.0', provides: [Symbol.for('horde.ExecutorManager')], register() {} };\n`;
    writeFileSync(join(work, 'one.mjs'), manager('manager-one'));
    writeFileSync(join(work, 'two.mjs'), manager('manager-two'));
    writeFileSync(join(work, 'not-a-plugin.mjs'), 'export default 42;\n');
    const cases: Array<[string[], RegExp]> = [
      [['--ports', '9000'], /--ports must be a range <from>-<to> of ports from 1024 to 65535, e\.g\. 9000-9099, got "9000"/],
      [['--miner-plugin', join(work, 'missing')], /--miner-plugin .*missing: no file at/],
      [['--miner-plugin', join(work, 'not-a-plugin.mjs')], /does not default-export a plugin/],
      [
        ['--miner-plugin', join(work, 'one.mjs'), '--miner-plugin', join(work, 'two.mjs')],
        /manager-one and manager-two each provide an ExecutorManager, and a miner uses exactly one/,
      ],
      [['--validator-plugin', '@horde/plugin-scoring-clasic'], /--validator-plugin @horde\/plugin-scoring-clasic: no package/],
    ];
    for (const [flags, message] of cases) {
      const result = await horde(['devnet', '--data-dir', dataDir, ...flags], 30_000);
      expect(result.code, flags.join(' ')).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(existsSync(dataDir)).toBe(false);
    }
    const help = await horde(['devnet', '--help'], 20_000);
    for (const flag of ['--miner-plugin', '--validator-plugin', '--ports']) expect(help.stdout).toContain(flag);
  }, 120_000);
});
