import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import { loadHotkey } from '../keys/index.js';
import { chainSettings, minerConfig, processLayout, sqliteStores, validatorConfig, type ConfigContext } from './configs.js';
import { behaviours, devnetKeys } from './keys.js';
import { parseDevnetOptions } from './options.js';
import { planDatabases } from './postgres.js';

const scripts = { image: 'horde/job-hash-crack:1', crack: '/pkg/job/crack.mjs', cheat: '/pkg/job/cheat.mjs' };

function context(flags: Parameters<typeof parseDevnetOptions>[0] = {}): ConfigContext {
  const options = parseDevnetOptions(flags, '/work');
  return { options, chain: chainSettings(options), chainStore: { client: 'sqlite', filename: '/data/chain.sqlite' }, scripts };
}

describe('devnet accounts', () => {
  it('puts honest miners first, then cheaters, then dancers', () => {
    expect(behaviours(5, 1, 2)).toEqual(['honest', 'honest', 'cheater', 'dancer', 'dancer']);
    expect(behaviours(1, 0, 1)).toEqual(['dancer']);
    expect(behaviours(4, 1, 1, 1)).toEqual(['honest', 'cheater', 'dancer', 'farmer']);
  });

  it('derives the same dev keys every run; a dancer has two hotkeys under one coldkey', async () => {
    const keys = await devnetKeys({ miners: 2, cheaters: 0, dancers: 1 });
    expect(keys.validator.hotkey).toEqual({
      uri: '//horde-devnet/validator',
      ss58: (await loadHotkey({ uri: '//horde-devnet/validator' })).ss58,
    });
    expect(keys.miners[0]!.hotkeys.map((k) => k.uri)).toEqual(['//horde-devnet/miner-1']);
    expect(keys.miners[1]!.hotkeys.map((k) => k.uri)).toEqual(['//horde-devnet/miner-2', '//horde-devnet/miner-2-2']);
    expect(keys.miners[1]!.coldkey.uri).toBe('//horde-devnet/coldkey-2');
    expect(
      new Set([keys.validator.hotkey.ss58, keys.trustedMiner.ss58, ...keys.miners.flatMap((m) => m.hotkeys.map((k) => k.ss58))]).size,
    ).toBe(5);
  });
});

describe('devnet configs', () => {
  it('derives a short epoch, a rate limit below the cycle and commit-reveal from the cycle length', () => {
    expect(chainSettings({ blockTimeMs: 100, cycleBlocks: 150 })).toEqual({
      netuid: 12,
      blockTimeMs: 100,
      cycleBlocks: 150,
      tempo: 74,
      weightsRateLimit: 75,
      commitRevealEnabled: true,
      revealPeriodEpochs: 1,
      commitRevealVersion: 3,
    });
    expect(chainSettings({ blockTimeMs: 100, cycleBlocks: 150, commitReveal: 'timelock' }).commitRevealVersion).toBe(4);
  });

  it('writes miner configs that horde accepts: the process runner maps the image to crack.mjs, a cheater to cheat.mjs', async () => {
    const ctx = context({ miners: '3', cheaters: '1', dancers: '1', plugins: ['./extra.js'] });
    const keys = await devnetKeys(ctx.options);
    const parsed = keys.miners.map((miner, i) => {
      const layout = processLayout('/data', miner.name, sqliteStores());
      return parseConfig(minerConfig({ layout, port: 4000 + i, keys: miner }, ctx), { configFile: layout.configFile });
    });
    const [honest, cheater, dancer] = parsed as [(typeof parsed)[0], (typeof parsed)[0], (typeof parsed)[0]];
    expect(honest.store).toMatchObject({ client: 'sqlite', filename: '/data/miner-1/horde.sqlite' });
    expect(honest.chain.local.store).toMatchObject({ client: 'sqlite', filename: '/data/chain.sqlite' });
    expect(honest.log).toMatchObject({ pretty: false, file: '/data/logs/miner-1.log' });
    expect(honest.miner).toMatchObject({
      host: '127.0.0.1',
      port: 4000,
      announce: { ip: '127.0.0.1' },
      localMode: null,
      cycleLengthBlocks: 150,
    });
    expect(honest.executor.runner).toBe('process');
    expect(honest.executor.processImages).toEqual({ 'horde/job-hash-crack:1': [process.execPath, '/pkg/job/crack.mjs'] });
    expect(cheater.executor.processImages).toEqual({ 'horde/job-hash-crack:1': [process.execPath, '/pkg/job/cheat.mjs'] });
    expect(honest.plugins).toEqual([
      { name: '@horde/plugin-hardware-classes', enabled: true },
      {
        name: '@horde/executor-manager-local',
        config: { executorClass: 'always_on.test', executors: 2, killGraceMs: 2000 },
        enabled: true,
      },
      { name: '/work/extra.js', enabled: true },
    ]);
    expect(dancer.miner.hotkeys).toEqual([{ uri: '//horde-devnet/miner-3' }, { uri: '//horde-devnet/miner-3-2' }]);
    expect(dancer.plugins.map((p) => p.name)).toContain('@horde/plugin-dancing');
    expect(honest.plugins.map((p) => p.name)).not.toContain('@horde/plugin-dancing');
  });

  it('gives a farmer one hotkey and the devnet farming plugin, which claims a ghost main hotkey every other cycle and moves nothing', async () => {
    const ctx = context({ miners: '2', farmers: '1' });
    const keys = await devnetKeys(ctx.options);
    const farmer = keys.miners[1]!;
    expect(farmer).toMatchObject({ behaviour: 'farmer', hotkeys: [{ uri: '//horde-devnet/miner-2' }] });
    const config = minerConfig({ layout: processLayout('/data', farmer.name, sqliteStores()), port: 4000, keys: farmer }, ctx);
    const pluginPath = config.plugins!.find((p) => typeof p === 'string' && p.endsWith('farming-plugin.js')) as string;
    expect(pluginPath).toBeDefined();
    const { farmingStrategy, FARMER_GHOST_HOTKEY } = await import('./farming-plugin.js');
    const ctxOf = (cycle: number) => ({ cycle, hotkeys: [farmer.hotkeys[0]!.ss58], manifest: { 'always_on.test': 2 } });
    expect([2, 3, 4].map((cycle) => farmingStrategy.mainHotkey(ctxOf(cycle)))).toEqual([
      FARMER_GHOST_HOTKEY,
      farmer.hotkeys[0]!.ss58,
      FARMER_GHOST_HOTKEY,
    ]);
    expect(farmingStrategy.assign(ctxOf(2))).toEqual({ [farmer.hotkeys[0]!.ss58]: { 'always_on.test': 2 } });
  });

  it('runs honest miners in containers with --docker, but a cheater keeps its process mapping', async () => {
    const ctx = context({ miners: '2', cheaters: '1', docker: true });
    const keys = await devnetKeys(ctx.options);
    const [honest, cheater] = keys.miners.map((miner) =>
      minerConfig({ layout: processLayout('/data', miner.name, sqliteStores()), port: 4000, keys: miner }, ctx),
    );
    expect(honest!.executor).toMatchObject({ runner: 'docker', startupChecks: ['docker_engine'] });
    expect(cheater!.executor).toMatchObject({ runner: 'process' });
  });

  it('makes the trusted miner a local-mode miner that serves only the validator and announces nothing', async () => {
    const ctx = context();
    const keys = await devnetKeys(ctx.options);
    const layout = processLayout('/data', 'trusted-miner', sqliteStores());
    const config = parseConfig(
      minerConfig({ layout, port: 4100, keys: null, trustedKey: keys.trustedMiner, localModeValidator: keys.validator.hotkey.ss58 }, ctx),
      { configFile: layout.configFile },
    );
    expect(config.miner.localMode).toEqual({ validatorHotkey: keys.validator.hotkey.ss58 });
    expect(config.miner.announce).toBeNull();
    expect(config.hotkey).toEqual({ uri: '//horde-devnet/trusted-miner' });
  });

  it('gives the validator hash-crack jobs, classic scoring with the test class, its trusted miner and short timeouts', async () => {
    const ctx = context({ blockTimeMs: '100', cycleBlocks: '150' });
    const keys = await devnetKeys(ctx.options);
    const layout = processLayout('/data', 'validator', sqliteStores());
    const config = parseConfig(validatorConfig({ layout, keys, trustedMinerPort: 4100 }, ctx), { configFile: layout.configFile });
    expect(config.validator).toMatchObject({
      cycleLengthBlocks: 150,
      batchOffsetBlocks: 10,
      trustedMiner: { address: '127.0.0.1', port: 4100, hotkey: keys.trustedMiner.ss58 },
      weights: { revealEveryBlocks: 5 },
    });
    expect(config.plugins.map((p) => p.name)).toEqual([
      '@horde/plugin-hardware-classes',
      '@horde/plugin-job-hash-crack',
      '@horde/plugin-scoring-classic',
    ]);
    expect(config.plugins[2]!.config).toEqual({ classWeights: { 'always_on.test': 1 } });
  });

  it('runs every miner with a --miner-plugin executor manager instead of the local one; the trusted miner keeps the local one', async () => {
    const ctx: ConfigContext = {
      ...context({ miners: '2', minerPlugins: ['./my-manager'], plugins: ['./both.js'] }),
      minerExecutorManager: 'horde-plugin-my-manager',
    };
    const keys = await devnetKeys(ctx.options);
    const miner = parseConfig(
      minerConfig({ layout: processLayout('/data', 'miner-1', sqliteStores()), port: 4000, keys: keys.miners[0]! }, ctx),
      {},
    );
    expect(miner.plugins.map((p) => p.name)).toEqual(['@horde/plugin-hardware-classes', '/work/both.js', '/work/my-manager']);
    const trusted = parseConfig(
      minerConfig(
        {
          layout: processLayout('/data', 'trusted-miner', sqliteStores()),
          port: 4100,
          keys: null,
          trustedKey: keys.trustedMiner,
          localModeValidator: keys.validator.hotkey.ss58,
        },
        ctx,
      ),
      {},
    );
    expect(trusted.plugins.map((p) => p.name)).toEqual([
      '@horde/plugin-hardware-classes',
      '@horde/executor-manager-local',
      '/work/both.js',
    ]);
  });

  it('adds --validator-plugin entries to the validator only, and weights every class the validator knows', async () => {
    const ctx: ConfigContext = {
      ...context({ validatorPlugins: ['./rule'] }),
      validatorClasses: ['always_on.test', 'always_on.cpu.8c.16gb'],
    };
    const keys = await devnetKeys(ctx.options);
    const validator = parseConfig(
      validatorConfig({ layout: processLayout('/data', 'validator', sqliteStores()), keys, trustedMinerPort: 4100 }, ctx),
      {},
    );
    expect(validator.plugins.map((p) => p.name)).toEqual([
      '@horde/plugin-hardware-classes',
      '@horde/plugin-job-hash-crack',
      '@horde/plugin-scoring-classic',
      '/work/rule',
    ]);
    expect(validator.plugins[2]!.config).toEqual({ classWeights: { 'always_on.test': 1, 'always_on.cpu.8c.16gb': 1 } });
    const miner = parseConfig(
      minerConfig({ layout: processLayout('/data', 'miner-1', sqliteStores()), port: 4000, keys: keys.miners[0]! }, ctx),
      {},
    );
    expect(miner.plugins.map((p) => p.name)).not.toContain('/work/rule');
  });

  it('puts each process in its own PostgreSQL database with --postgres', () => {
    const databases = planDatabases('postgres://u:secret@db:5432/horde', ['chain', 'validator', 'miner-1']);
    expect([...databases.names.values()]).toEqual(['horde_chain', 'horde_validator', 'horde_miner_1']);
    expect(databases.urlOf('miner-1')).toBe('postgres://u:secret@db:5432/horde_miner_1');
    expect(processLayout('/data', 'validator', databases.storeFor).store).toEqual({
      client: 'postgres',
      url: 'postgres://u:secret@db:5432/horde_validator',
    });
    // The server's maintenance database is not a name to build on.
    expect([...planDatabases('postgres://u@db/postgres', ['chain']).names.values()]).toEqual(['horde_devnet_chain']);
  });
});
