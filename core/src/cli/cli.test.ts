import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady, mnemonicGenerate } from '@polkadot/util-crypto';
import { afterAll, describe, expect, it } from 'vitest';

// These tests run the built CLI (`npm test` builds first), as a user does.
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(repo, 'core/bin/horde.js');
const exampleConfig = join(repo, 'horde.config.yaml');
const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(parent = tmpdir()): string {
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, 'horde-cli-'));
  tempDirs.push(dir);
  return dir;
}

function horde(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  // No HORDE_* from the surrounding environment: each test states the settings it means.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('HORDE_')));
  const result = spawnSync(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? repo,
    env: { ...env, ...options.env },
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('horde CLI', () => {
  it('prints help listing the commands, and the core version', () => {
    const help = horde(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: horde/);
    expect(help.stdout).toMatch(/config\s+inspect the configuration/);
    expect(help.stdout).toMatch(/plugins\s+inspect plugins/);

    const version = horde(['--version']);
    const { version: coreVersion } = JSON.parse(readFileSync(join(repo, 'core/package.json'), 'utf8')) as { version: string };
    expect(version).toMatchObject({ code: 0, stdout: `${coreVersion}\n` });
  });

  it('checks the example config found in the working directory', () => {
    const result = horde(['config', 'check']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Config OK: ${exampleConfig}`);
    expect(result.stdout).toContain(`${ALICE} (from hotkey.uri)`);
    expect(result.stdout).toMatch(/chain\s+local, netuid 12/);
    expect(result.stdout).toContain('@horde/plugin-hardware-classes 0.1.0 (HardwareClass ×7)');
  });

  it('lists the plugins of a config given with --config, as a table or as JSON', () => {
    const table = horde(['plugins', 'list', '--config', exampleConfig], { cwd: tmpdir() });
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(`Plugins from ${exampleConfig}:`);
    expect(table.stdout).toMatch(/PLUGIN\s+VERSION\s+PROVIDES\n@horde\/plugin-hardware-classes\s+0\.1\.0\s+HardwareClass ×7/);

    const json = horde(['plugins', 'list', '--config', exampleConfig, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      configFile: exampleConfig,
      plugins: [{ name: '@horde/plugin-hardware-classes', version: '0.1.0', provides: [{ contract: 'HardwareClass', count: 7 }] }],
      disabled: [],
    });
  });

  it('exits 1 with the precise problem and no stack trace for a bad value', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'horde.config.yaml'), 'hotkey: //Alice\nchain:\n  netuid: abc\n');
    const result = horde(['config', 'check'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `horde: Invalid config ${join(dir, 'horde.config.yaml')}:\n  - chain.netuid: expected a number, got "abc" (set it in horde.config.yaml or HORDE_CHAIN__NETUID)\n`,
    );
  });

  it('exits 1 for a --config file that does not exist, and for an environment value that is wrong', () => {
    const missing = horde(['config', 'check', '--config', 'nowhere.yaml'], { cwd: tmpdir() });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`horde: Config file not found: ${join(tmpdir(), 'nowhere.yaml')} (from --config)\n`);

    const env = horde(['config', 'check'], { env: { HORDE_MINER__PORT: 'eighty' } });
    expect(env.code).toBe(1);
    expect(env.stderr).toContain('miner.port: expected a number, got "eighty" (set by HORDE_MINER__PORT)');
  });

  it('exits 1 naming both plugins when two provide an ExecutorManager', () => {
    const dir = tempDir();
    for (const name of ['one', 'two']) {
      writeFileSync(
        join(dir, `${name}.mjs`),
        `export default { [Symbol.for('horde.plugin')]: true, name: 'manager-${name}', version: '1.0.0', apiRange: '^1.0.0', provides: [Symbol.for('horde.ExecutorManager')], register() {} };\n`,
      );
    }
    writeFileSync(join(dir, 'horde.config.yaml'), 'hotkey: //Alice\nplugins: [./one.mjs, ./two.mjs]\n');
    const result = horde(['plugins', 'list'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Plugins "manager-one" and "manager-two" both provide ExecutorManager');
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it("config check runs the plugins' own checks: an executor class no hardware-class plugin provides is an error", () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'horde.config.yaml'),
      "hotkey: //Alice\nplugins:\n  - '@horde/plugin-hardware-classes'\n  - name: '@horde/executor-manager-local'\n    config: { executorClass: always_on.cpu.16c }\n",
    );
    const result = horde(['config', 'check'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain('Config OK');
    expect(result.stderr).toContain('Plugin "@horde/executor-manager-local" (plugins[1] in horde.config.yaml) found a problem');
    expect(result.stderr).toContain('executorClass "always_on.cpu.16c" is not a hardware class this process knows (spin_up-4min.gpu-24gb,');
    expect(result.stderr).not.toMatch(/^\s+at /m);

    writeFileSync(
      join(dir, 'horde.config.yaml'),
      "hotkey: //Alice\nplugins:\n  - '@horde/plugin-hardware-classes'\n  - name: '@horde/executor-manager-local'\n    config: { executorClass: always_on.test }\n",
    );
    const fixed = horde(['config', 'check'], { cwd: dir });
    expect(fixed.stderr).toBe('');
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toContain('Config OK');
  });

  it('says to build a plugin named by its TypeScript source, and to use dist/index.js', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'my-plugin/src'), { recursive: true });
    writeFileSync(
      join(dir, 'my-plugin/src/index.ts'),
      "import { definePlugin } from '@horde/core';\nexport default definePlugin({} as never);\n",
    );
    writeFileSync(join(dir, 'horde.config.yaml'), 'hotkey: //Alice\nplugins: [./my-plugin/src/index.ts]\n');
    const result = horde(['config', 'check'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Plugin "./my-plugin/src/index.ts" (plugins[0] in horde.config.yaml) is TypeScript source');
    expect(result.stderr).toContain('npm run build');
    expect(result.stderr).toContain('./dist/index.js');
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('loads a bittensor wallet hotkey named in the config', async () => {
    await cryptoWaitReady();
    const mnemonic = mnemonicGenerate(12);
    const pair = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri(mnemonic);
    const dir = tempDir();
    mkdirSync(join(dir, 'wallets/cold/hotkeys'), { recursive: true });
    writeFileSync(join(dir, 'wallets/cold/hotkeys/hot'), JSON.stringify({ secretPhrase: mnemonic, ss58Address: pair.address }));
    writeFileSync(join(dir, 'horde.config.yaml'), 'hotkey: { wallet: cold, hotkey: hot, walletsDir: ./wallets }\nplugins: []\n');
    const result = horde(['config', 'check'], { cwd: dir });
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`${pair.address} (wallet "cold", hotkey "hot" in ${join(dir, 'wallets')})`);
    expect(result.stdout).toMatch(/plugins\s+\(none\)/);

    const missing = horde(['config', 'check'], {
      cwd: dir,
      env: { HORDE_HOTKEY__WALLET: 'cold', HORDE_HOTKEY__HOTKEY: 'other', HORDE_HOTKEY__WALLETS_DIR: join(dir, 'wallets') },
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`Hotkey file not found: ${join(dir, 'wallets/cold/hotkeys/other')}`);
  });

  it('reads a horde.config.ts that imports @horde/core, under plain Node', () => {
    const dir = tempDir(join(repo, '.tmp'));
    writeFileSync(
      join(dir, 'horde.config.ts'),
      "import { defineConfig } from '@horde/core';\nconst netuid: number = 7;\nexport default defineConfig({ hotkey: '//Bob', chain: { netuid }, plugins: [] });\n",
    );
    const result = horde(['config', 'check'], { cwd: dir });
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/chain\s+local, netuid 7/);
  });

  it('rejects an unknown command', () => {
    const result = horde(['frobnicate']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("unknown command 'frobnicate'");
  });
});
