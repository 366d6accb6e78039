import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '@horde/core/runtime';

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory holding the given files. */
function project(files: Record<string, string>, parent = tmpdir()): string {
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, 'horde-config-'));
  tempDirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('defaults', () => {
  it('fills every setting when the config is empty', () => {
    const config = parseConfig({}, { baseDir: '/srv/horde' });
    expect(config.role).toBe('miner');
    expect(config.hotkey).toEqual({ wallet: 'default', hotkey: 'default' });
    expect(config.dataDir).toBe('/srv/horde/.horde');
    expect(config.store).toEqual({ client: 'sqlite', filename: '/srv/horde/.horde/horde.sqlite', poolMax: 10 });
    expect(config.chain).toMatchObject({ network: 'local', netuid: 12, local: { blockTimeMs: 12_000 } });
    expect(config.miner).toMatchObject({ host: '0.0.0.0', port: 8000 });
    expect(config.executor.runner).toBe('docker');
    expect(config.log).toEqual({ level: 'info' });
    expect(config.metrics).toEqual({ defaultMetrics: true });
    expect(config.plugins).toEqual([{ name: '@horde/plugin-hardware-classes', enabled: true }]);
    expect(config.configFile).toBeNull();
  });

  it('fills the defaults a partial section leaves out', () => {
    const config = parseConfig({ chain: { netuid: 3 }, plugins: ['./a.js', { name: 'b', config: { x: 1 } }] }, { baseDir: '/srv' });
    expect(config.chain).toMatchObject({ network: 'local', netuid: 3, local: { blockTimeMs: 12_000 } });
    expect(config.plugins).toEqual([
      { name: './a.js', enabled: true },
      { name: 'b', config: { x: 1 }, enabled: true },
    ]);
  });

  it('resolves relative paths against the config directory and ~ against the home directory', () => {
    const config = parseConfig(
      { dataDir: '~/horde-data', hotkey: { file: 'keys/hot.json' }, log: { file: 'logs/miner.log' }, store: { filename: 'db/x.sqlite' } },
      { configFile: '/etc/horde/horde.config.yaml' },
    );
    expect(config.baseDir).toBe('/etc/horde');
    expect(config.dataDir).toBe(join(homedir(), 'horde-data'));
    expect(config.hotkey).toEqual({ file: '/etc/horde/keys/hot.json' });
    expect(config.log.file).toBe('/etc/horde/logs/miner.log');
    expect(config.store.filename).toBe('/etc/horde/db/x.sqlite');
  });

  it('accepts the three hotkey forms and a bare URI string', () => {
    expect(parseConfig({ hotkey: '//Alice' }).hotkey).toEqual({ uri: '//Alice' });
    expect(parseConfig({ hotkey: { uri: '//Bob' } }).hotkey).toEqual({ uri: '//Bob' });
    expect(parseConfig({ hotkey: { wallet: 'w', hotkey: 'h', walletsDir: '/wallets' } }).hotkey).toEqual({
      wallet: 'w',
      hotkey: 'h',
      walletsDir: '/wallets',
    });
    expect(parseConfig({ hotkey: { wallet: 'w' } }).hotkey).toEqual({ wallet: 'w', hotkey: 'default' });
  });
});

describe('file formats', () => {
  const expected = { miner: { host: '0.0.0.0', port: 9100 } };
  const cases: [string, string][] = [
    ['horde.config.yaml', 'miner:\n  port: 9100\n'],
    ['horde.config.yml', 'miner: { port: 9100 }\n'],
    ['horde.config.json', '{ "miner": { "port": 9100 } }'],
    ['horde.config.mjs', 'export default { miner: { port: 9100 } };'],
    ['horde.config.js', 'export default { miner: { port: 9100 } };'],
    ['horde.config.cjs', 'module.exports = { miner: { port: 9100 } };'],
    [
      'horde.config.ts',
      'interface Miner { port: number }\nconst miner: Miner = { port: 9100 };\nexport default { miner } satisfies Record<string, unknown>;\n',
    ],
    ['.hordrc', 'miner:\n  port: 9100\n'],
    ['.hordrc.json', '{ "miner": { "port": 9100 } }'],
    ['.hordrc.yaml', 'miner:\n  port: 9100\n'],
    ['.hordrc.mjs', 'export default { miner: { port: 9100 } };'],
    ['package.json', '{ "name": "someone-else", "horde": { "miner": { "port": 9100 } } }'],
  ];
  it.each(cases)('finds and reads %s', async (name, content) => {
    const dir = project({ [name]: content });
    const config = await loadConfig({ cwd: dir, env: {} });
    expect(config.configFile).toBe(join(dir, name));
    expect(config.miner).toMatchObject(expected.miner);
    expect(config.dataDir).toBe(join(dir, '.horde'));
  });

  it('compiles a TypeScript config that imports defineConfig from @horde/core', async () => {
    // Inside the repository (git-ignored .tmp), so @horde/core resolves as it would in a user's project.
    const repoTmp = fileURLToPath(new URL('../../../.tmp/', import.meta.url));
    const dir = project(
      {
        'horde.config.ts': [
          "import { defineConfig, type HordeConfigInput } from '@horde/core';",
          "const chain: HordeConfigInput['chain'] = { network: 'wss://entrypoint-finney.opentensor.ai:443', netuid: 12 };",
          'export default defineConfig({ role: "validator", chain });',
        ].join('\n'),
      },
      repoTmp,
    );
    const config = await loadConfig({ cwd: dir, env: {} });
    expect(config.role).toBe('validator');
    expect(config.chain.network).toBe('wss://entrypoint-finney.opentensor.ai:443');
  });

  it('reports a TypeScript config that does not compile', async () => {
    const dir = project({ 'horde.config.ts': 'export default { miner: { port: 9100 } ;' });
    const error = await configError(loadConfig({ cwd: dir, env: {} }));
    expect(error.code).toBe('HORDE_CONFIG_LOAD_FAILED');
    expect(error.message).toContain('horde.config.ts');
  });

  it('reports YAML that does not parse', async () => {
    const dir = project({ 'horde.config.yaml': 'miner:\n  port: [9100\n' });
    const error = await configError(loadConfig({ cwd: dir, env: {} }));
    expect(error.code).toBe('HORDE_CONFIG_LOAD_FAILED');
    expect(error.message).toContain(join(dir, 'horde.config.yaml'));
  });

  it('uses defaults when no config file is found', async () => {
    const dir = project({});
    const config = await loadConfig({ cwd: dir, env: {} });
    expect(config.configFile).toBeNull();
    expect(config.baseDir).toBe(dir);
    expect(config.chain.netuid).toBe(12);
  });

  it('loads an explicit --config path (any name), or HORDE_CONFIG, and reports a missing one', async () => {
    const dir = project({ 'miner-1.yaml': 'miner: { port: 9201 }\n' });
    expect((await loadConfig({ cwd: dir, configPath: 'miner-1.yaml', env: {} })).miner.port).toBe(9201);
    expect((await loadConfig({ cwd: tmpdir(), env: { HORDE_CONFIG: join(dir, 'miner-1.yaml') } })).miner.port).toBe(9201);

    const missing = await configError(loadConfig({ cwd: dir, configPath: 'nope.yaml', env: {} }));
    expect(missing.code).toBe('HORDE_CONFIG_NOT_FOUND');
    expect(missing.message).toBe(`Config file not found: ${join(dir, 'nope.yaml')} (from --config)`);
  });
});

describe('environment overrides', () => {
  it('overrides file values with HORDE_* variables, typed by the schema', async () => {
    const dir = project({ 'horde.config.yaml': 'miner: { port: 8000, host: 127.0.0.1 }\nchain: { network: test }\n' });
    const config = await loadConfig({
      cwd: dir,
      env: {
        HORDE_MINER__PORT: '9000',
        HORDE_CHAIN__NETUID: '174',
        HORDE_CHAIN__LOCAL__BLOCK_TIME_MS: '250',
        HORDE_LOG__PRETTY: 'false',
        HORDE_DATA_DIR: '/var/lib/horde',
        HORDE_ROLE: 'validator',
        HORDE_PLUGINS: '@horde/plugin-hardware-classes, ./mine.js',
        // Not settings: ignored.
        HORDE_TEST_PG_URL: 'postgres://postgres@127.0.0.1:55432/postgres',
        PATH: '/usr/bin',
      },
    });
    expect(config.miner).toMatchObject({ host: '127.0.0.1', port: 9000 });
    expect(config.chain).toMatchObject({ network: 'test', netuid: 174, local: { blockTimeMs: 250 } });
    expect(config.log.pretty).toBe(false);
    expect(config.dataDir).toBe('/var/lib/horde');
    expect(config.role).toBe('validator');
    expect(config.plugins.map((plugin) => plugin.name)).toEqual(['@horde/plugin-hardware-classes', './mine.js']);
  });

  it("replaces the file's hotkey as a whole", async () => {
    const dir = project({ 'horde.config.yaml': 'hotkey: { wallet: cold, hotkey: warm }\n' });
    expect((await loadConfig({ cwd: dir, env: { HORDE_HOTKEY__URI: '//Bob' } })).hotkey).toEqual({ uri: '//Bob' });
    expect((await loadConfig({ cwd: dir, env: { HORDE_HOTKEY: '//Charlie' } })).hotkey).toEqual({ uri: '//Charlie' });
    expect((await loadConfig({ cwd: dir, env: { HORDE_HOTKEY__HOTKEY: 'hot2', HORDE_HOTKEY__WALLET: 'cold2' } })).hotkey).toEqual({
      wallet: 'cold2',
      hotkey: 'hot2',
    });
  });

  it('names the variable that holds a bad value', async () => {
    const error = await configError(loadConfig({ cwd: project({}), env: { HORDE_CHAIN__NETUID: 'abc' } }));
    expect(error.problems).toEqual(['chain.netuid: expected a number, got "abc" (set by HORDE_CHAIN__NETUID)']);
  });

  it('refuses a mistyped variable inside a known section, suggesting the right one', async () => {
    const error = await configError(loadConfig({ cwd: project({}), env: { HORDE_LOG__LEVLE: 'debug' } }));
    expect(error.problems).toEqual([
      'HORDE_LOG__LEVLE: log has no setting "levle"; did you mean HORDE_LOG__LEVEL? (known: level, pretty, file)',
    ]);
  });
});

describe('invalid configs', () => {
  it('says which key is wrong, what it expected, and where to set it', () => {
    const error = (() => {
      try {
        parseConfig({ chain: { netuid: 'abc' } }, { configFile: '/srv/horde.config.yaml' });
      } catch (caught) {
        return caught as ConfigError;
      }
      throw new Error('parseConfig accepted a bad netuid');
    })();
    expect(error.code).toBe('HORDE_CONFIG_INVALID');
    expect(error.problems).toEqual(['chain.netuid: expected a number, got "abc" (set it in horde.config.yaml or HORDE_CHAIN__NETUID)']);
    expect(error.message).toBe(
      'Invalid config /srv/horde.config.yaml:\n  - chain.netuid: expected a number, got "abc" (set it in horde.config.yaml or HORDE_CHAIN__NETUID)',
    );
  });

  it('lists every problem at once, unknown keys with a suggestion', () => {
    expect(() =>
      parseConfig({
        chian: {},
        miner: { port: 70_000 },
        chain: { network: 'mainnet', netuid: 1.5 },
        role: 'farmer',
        log: { level: 'loud' },
      }),
    ).toThrowError(
      expect.objectContaining({
        problems: expect.arrayContaining([
          'chian: unknown setting; did you mean "chain"? (known settings: role, hotkey, dataDir, store, chain, objectStore, miner, executor, validator, facilitator, log, metrics, dashboard, plugins)',
          'miner.port: must be at most 65535; got 70000 (set it in horde.config.yaml or HORDE_MINER__PORT)',
          'chain.network: expected "local", "finney", "test" or a ws:// or wss:// URL; got "mainnet" (set it in horde.config.yaml or HORDE_CHAIN__NETWORK)',
          'chain.netuid: expected a whole number, got 1.5 (set it in horde.config.yaml or HORDE_CHAIN__NETUID)',
          'role: expected "miner", "validator", "executor", "facilitator", "devnet"; got "farmer" (set it in horde.config.yaml or HORDE_ROLE)',
          'log.level: expected "fatal", "error", "warn", "info", "debug", "trace", "silent"; got "loud" (set it in horde.config.yaml or HORDE_LOG__LEVEL)',
        ]),
      }),
    );
  });

  it("refuses a nested unknown key, listing the section's settings", () => {
    expect(() => parseConfig({ log: { levl: 'debug' } })).toThrowError(
      'log.levl: unknown setting; did you mean "level"? (known in log settings: level, pretty, file)',
    );
    expect(() => parseConfig({ chain: { netiud: 3 } })).toThrowError(
      /chain\.netiud: unknown setting; did you mean "netuid"\? \(known in chain settings: network, netuid, /,
    );
  });

  it('refuses two hotkey sources at once, and a hotkey field of the wrong type', () => {
    expect(() => parseConfig({ hotkey: { uri: '//Alice', wallet: 'w' } })).toThrowError(
      'hotkey: give one way to find the hotkey, not uri and wallet/hotkey',
    );
    expect(() => parseConfig({ hotkey: { file: 3 } })).toThrowError('hotkey.file: expected a string, got 3');
  });

  it('requires a url for a postgres store', () => {
    expect(() => parseConfig({ store: { client: 'postgres' } })).toThrowError('store.url: required when store.client is "postgres"');
    expect(parseConfig({ store: { client: 'postgres', url: 'postgres://u@h:5432/db' } }).store).toEqual({
      client: 'postgres',
      url: 'postgres://u@h:5432/db',
      poolMax: 10,
    });
  });

  it('explains a bad plugin entry', () => {
    expect(() => parseConfig({ plugins: [{ name: 'x', enabled: 'maybe' }] })).toThrowError(
      'plugins[0].enabled: expected true or false, got "maybe"',
    );
    expect(() => parseConfig({ plugins: [42] })).toThrowError('plugins[0]: expected a plugin name or { name, config?, enabled? }; got 42');
  });

  it('refuses a file whose top level is not a section of settings', async () => {
    const dir = project({ 'horde.config.yaml': '- a\n- b\n' });
    const error = await configError(loadConfig({ cwd: dir, env: {} }));
    expect(error.problems).toEqual(['(top level): expected a section of settings (an object), got a list']);
  });
});
