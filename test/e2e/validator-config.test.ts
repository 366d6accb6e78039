/**
 * `horde validator --config F`: the validator built from a config file, with its plugins loaded by
 * package name (built `dist`), against the LocalChain kept in the config's store.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalChain } from '../../core/src/chain/local/local-chain.js';
import { loadConfig } from '../../core/src/config/index.js';
import { loadHotkey } from '../../core/src/keys/index.js';
import { silentLogger } from '../../core/src/logging/index.js';
import { openStore } from '../../core/src/store/index.js';
import { startValidator } from '../../core/src/validator/index.js';
import { requireBuiltCli } from '../support/miner-harness.js';

const CLI = fileURLToPath(new URL('../../core/bin/horde.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'horde-validator-config-'));
const storeFile = join(dir, 'horde.sqlite');

function writeConfig(name: string, plugins: unknown[]): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    JSON.stringify({
      role: 'validator',
      hotkey: '//ConfigValidator',
      dataDir: dir,
      store: { client: 'sqlite', filename: storeFile },
      chain: { network: 'local', netuid: 12 },
      validator: { cycleLengthBlocks: 20, batchOffsetBlocks: 1, weights: { attempts: 1 } },
      log: { level: 'info', pretty: false },
      plugins,
    }),
  );
  return file;
}

const PLUGINS = [
  { name: '@horde/plugin-hardware-classes', config: { classes: ['always_on.test'] } },
  '@horde/plugin-job-hash-crack',
  { name: '@horde/plugin-scoring-classic', config: { dancingBonus: 0.1, classWeights: { 'always_on.test': 1 } } },
];

beforeAll(async () => {
  requireBuiltCli();
  const store = await openStore({ client: 'sqlite', filename: storeFile });
  await LocalChain.init(store, { blockTimeMs: 100, subnets: [{ netuid: 12, tempo: 9 }] });
  const admin = await LocalChain.open({ store, netuid: 12 });
  const validator = await loadHotkey({ uri: '//ConfigValidator' });
  await admin.ledger.registerNeuron({ netuid: 12, hotkey: validator.ss58, coldkey: validator.ss58, stake: 60_000, validatorPermit: true });
  await admin.close();
  await store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('validator from a config file', () => {
  it('loads hardware classes, generators and scoring rules from the plugins the config names', async () => {
    const config = await loadConfig({ configPath: writeConfig('ok.json', PLUGINS) });
    const validator = await startValidator(config, { logger: silentLogger(), autoRun: false });
    try {
      const batch = await validator.handle.runBatch(0);
      expect(batch).toMatchObject({ cycle: 0, miners: 0, jobs: 0 });
      const scored = await validator.handle.scoreCycle(0);
      expect(scored.steps.map((step) => step.rule)).toEqual([
        'synthetic-jobs',
        'organic-jobs',
        'excused-rejections',
        'dancing-bonus',
        'class-weights',
      ]);
      expect(await validator.handle.scoreAndSetWeights(0)).toBeNull(); // nobody to weight: nothing sent
    } finally {
      await validator.close();
    }
  });

  it('refuses to start without a scoring plugin, saying which plugin to add', async () => {
    const config = await loadConfig({ configPath: writeConfig('no-scoring.json', PLUGINS.slice(0, 2)) });
    await expect(startValidator(config, { logger: silentLogger(), autoRun: false })).rejects.toMatchObject({
      code: 'HORDE_VALIDATOR_CONFIG',
      message: expect.stringContaining('@horde/plugin-scoring-classic'),
    });
  });

  it('reports a bad plugin setting with the plugin and key', async () => {
    const config = await loadConfig({
      configPath: writeConfig('bad.json', [
        ...PLUGINS.slice(0, 2),
        { name: '@horde/plugin-scoring-classic', config: { mainHotkeyShare: 2 } },
      ]),
    });
    await expect(startValidator(config, { logger: silentLogger(), autoRun: false })).rejects.toThrow(
      /scoring-classic[\s\S]*mainHotkeyShare/,
    );
  });

  it('runs as `horde validator --config F` until SIGTERM', async () => {
    const child = spawn('node', [CLI, 'validator', '--config', writeConfig('cli.json', PLUGINS)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await expect.poll(() => output, { timeout: 20_000, interval: 100 }).toContain('validator started');
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(output).toContain('validator stopping');
  }, 30_000);
});
