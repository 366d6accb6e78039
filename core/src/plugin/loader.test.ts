import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  CLOCK,
  DANCING_STRATEGY,
  EXECUTOR_MANAGER,
  JOB_GENERATOR,
  PLUGIN_API_VERSION,
  PluginError,
  SCORING_RULE,
  type Clock,
  type HordeConfigInput,
  type ScoringRule,
} from '@horde/core';
import {
  createLogger,
  createMetricsRegistry,
  createRuntimeContainer,
  loadPlugins,
  parseConfig,
  SHIPPED_PLUGINS,
  silentLogger,
} from '@horde/core/runtime';

const fixtures = fileURLToPath(new URL('./__fixtures__/', import.meta.url));
const fixedClock: Clock = { now: () => 1_700_000_000_000, sleep: async () => {} };

/** Loads plugins the way a process does: config (relative paths from the fixtures folder) → root container → loader. */
async function load(plugins: HordeConfigInput['plugins']) {
  const config = parseConfig({ plugins }, { baseDir: fixtures, configFile: `${fixtures}horde.config.yaml` });
  const root = createRuntimeContainer({
    config,
    logger: silentLogger(),
    metrics: createMetricsRegistry({ defaultMetrics: false }),
    clock: fixedClock,
  });
  const loaded = await loadPlugins(config, root);
  return { loaded, root };
}

async function loadError(plugins: HordeConfigInput['plugins']): Promise<PluginError> {
  const error = await load(plugins).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(PluginError);
  return error as PluginError;
}

describe('loadPlugins', () => {
  it('loads a plugin by relative path, validates its config and resolves what it provides', async () => {
    const { loaded, root } = await load([{ name: './manager-a.mjs', config: { executors: 3 } }]);
    expect(loaded.plugins).toEqual([
      expect.objectContaining({
        name: 'fixture-manager-a',
        version: '1.2.3',
        source: './manager-a.mjs',
        provides: [{ contract: 'ExecutorManager', count: 1 }],
      }),
    ]);
    const manager = loaded.single(EXECUTOR_MANAGER);
    expect(await manager?.manifest()).toEqual({ 'always_on.test': 3 });
    // The runtime resolves the same (single) instance from the root container.
    expect(root.resolve(EXECUTOR_MANAGER)).toBe(manager);
  });

  it('refuses a plugin whose apiRange does not include the core plugin API, naming both', async () => {
    const error = await loadError(['./future-api.mjs']);
    expect(error.code).toBe('HORDE_PLUGIN_API_MISMATCH');
    expect(error.message).toContain('fixture-future-api');
    expect(error.message).toContain('^2.0.0');
    expect(error.message).toContain(`plugin API ${PLUGIN_API_VERSION}`);
  });

  it('refuses a bad config value, naming the plugin, the key and where to fix it', async () => {
    const error = await loadError([{ name: './manager-a.mjs', config: { executors: 'lots' } }]);
    expect(error.code).toBe('HORDE_PLUGIN_CONFIG_INVALID');
    expect(error.message).toContain('fixture-manager-a');
    expect(error.message).toContain('plugins[0].config.executors: expected a number, got "lots" (in horde.config.yaml)');
  });

  it('refuses an unknown key in a plugin config section', async () => {
    const error = await loadError([{ name: './manager-a.mjs', config: { executor: 2 } }]);
    expect(error.code).toBe('HORDE_PLUGIN_CONFIG_INVALID');
    expect(error.message).toContain('plugins[0].config.executor: unknown setting; did you mean "executors"?');
  });

  it('refuses config for a plugin that takes none', async () => {
    const error = await loadError([{ name: './manager-b.mjs', config: { executors: 2 } }]);
    expect(error.code).toBe('HORDE_PLUGIN_CONFIG_INVALID');
    expect(error.message).toMatch(/fixture-manager-b.*takes no config.*Remove plugins\[0\]\.config/s);
  });

  it('refuses an unknown package name, saying how to install it', async () => {
    const error = await loadError(['horde-plugin-does-not-exist']);
    expect(error.code).toBe('HORDE_PLUGIN_NOT_FOUND');
    expect(error.message).toContain('Plugin "horde-plugin-does-not-exist" (plugins[0] in horde.config.yaml) not found');
    expect(error.message).toContain('npm install horde-plugin-does-not-exist');
  });

  it('suggests the shipped plugin a misspelled name meant, and never to install the typo', async () => {
    const error = await loadError(['@horde/plugin-hardware-clases']);
    expect(error.code).toBe('HORDE_PLUGIN_NOT_FOUND');
    expect(error.message).toContain('Did you mean "@horde/plugin-hardware-classes"?');
    expect(error.message).not.toContain('npm install');

    const far = await loadError(['@horde/plugin-nothing-like-it']);
    expect(far.message).toContain('The shipped plugins are: @horde/plugin-hardware-classes');
    expect(far.message).not.toContain('npm install');
  });

  it("runs each plugin's validate hook on demand, reporting every problem with the entry to fix", async () => {
    const { loaded } = await load(['./validated.mjs']);
    await expect(loaded.validate()).resolves.toBeUndefined();

    const bad = await load(['./rules-one.mjs', { name: './validated.mjs', config: { boostClass: 'always_on.nope' } }]);
    const error = await bad.loaded.validate().then(
      () => undefined,
      (caught: unknown) => caught as PluginError,
    );
    expect(error).toBeInstanceOf(PluginError);
    expect(error?.code).toBe('HORDE_PLUGIN_VALIDATE_FAILED');
    expect(error?.message).toBe(
      'Plugin "fixture-validated" (plugins[1] in horde.config.yaml) found a problem:\n  - boostClass "always_on.nope" is no hardware class here (fixture.class)',
    );

    const throws = await load([{ name: './validated.mjs', config: { throwInValidate: true } }]);
    const thrown = await throws.loaded.validate().then(
      () => undefined,
      (caught: unknown) => caught as PluginError,
    );
    expect(thrown?.code).toBe('HORDE_PLUGIN_VALIDATE_FAILED');
    expect(thrown?.message).toContain('validate threw: cannot read the boost table');
  });

  it('names every shipped plugin in its list of shipped plugins', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const repo = fileURLToPath(new URL('../../../', import.meta.url));
    const names = ['plugins', 'executor-managers'].flatMap((folder) =>
      readdirSync(`${repo}${folder}`).map(
        (dir) => (JSON.parse(readFileSync(`${repo}${folder}/${dir}/package.json`, 'utf8')) as { name: string }).name,
      ),
    );
    expect([...SHIPPED_PLUGINS].sort()).toEqual(names.sort());
  });

  it('refuses a relative path with no file behind it, showing where it looked', async () => {
    const error = await loadError(['./nope.mjs']);
    expect(error.code).toBe('HORDE_PLUGIN_NOT_FOUND');
    expect(error.message).toContain(`no file at ${fixtures}nope.mjs`);
    expect(error.message).toContain("relative to the config file's directory");
  });

  it('refuses two ExecutorManagers before either registers', async () => {
    const error = await loadError(['./manager-a.mjs', './manager-b.mjs']);
    expect(error.code).toBe('HORDE_PLUGIN_CONFLICT');
    expect(error.message).toContain('Plugins "fixture-manager-a" and "fixture-manager-b" both provide ExecutorManager');
    expect(error.message).toContain('enabled: false');
  });

  it('skips a disabled plugin, so a second manager can stay in the config', async () => {
    const { loaded } = await load(['./manager-a.mjs', { name: './manager-b.mjs', enabled: false }]);
    expect(loaded.plugins.map((plugin) => plugin.name)).toEqual(['fixture-manager-a']);
    expect(loaded.disabled).toEqual(['./manager-b.mjs']);
  });

  it('refuses the same plugin twice', async () => {
    const error = await loadError(['./rules-one.mjs', './rules-one.mjs']);
    expect(error.code).toBe('HORDE_PLUGIN_DUPLICATE');
    expect(error.message).toContain('plugins[0] and plugins[1]');
  });

  it('resolves multi-token providers in config order, then provide order', async () => {
    const forward = await load(['./rules-one.mjs', { name: './rules-two.mjs', config: { label: 'b' } }]);
    expect(forward.loaded.all(SCORING_RULE).map((rule) => rule.name)).toEqual(['one-first', 'one-second', 'b-first', 'b-second']);
    expect(forward.root.resolveAll<ScoringRule>(SCORING_RULE).map((rule) => rule.name)).toEqual([
      'one-first',
      'one-second',
      'b-first',
      'b-second',
    ]);

    const reversed = await load(['./rules-two.mjs', './rules-one.mjs']);
    expect(reversed.loaded.all(SCORING_RULE).map((rule) => rule.name)).toEqual(['two-first', 'two-second', 'one-first', 'one-second']);
    expect(reversed.loaded.plugins[0]?.provides).toEqual([{ contract: 'ScoringRule', count: 2 }]);
  });

  it("keeps a plugin's private registrations invisible to other plugins and to the runtime", async () => {
    const snooper = await import('./__fixtures__/private-snooper.mjs');
    const { loaded, root } = await load(['./private-owner.mjs', './private-snooper.mjs']);
    const generators = loaded.all(JOB_GENERATOR);
    // The owner's factory sees its own private service ...
    expect(generators.map((generator) => generator.name)).toEqual(['generator-with-private-salt', 'snooper']);
    // ... the sibling sees nothing of it, neither in register nor in its factory ...
    expect(snooper.seen.viaContainer).toBe(false);
    expect(snooper.seen.inRegister?.error).toContain('fixture-private-snooper" asked for fixture.secret-service');
    expect(snooper.seen.inFactory?.error).toContain('asked for fixture.secret-service');
    // ... and neither does the runtime's root container.
    expect(root.isRegistered(Symbol.for('fixture.secret-service'), true)).toBe(false);
  });

  it('gives factories the runtime infrastructure, but reports infrastructure asked for too early', async () => {
    const { loaded } = await load(['./infra-user.mjs']);
    expect(loaded.single(DANCING_STRATEGY)?.name).toBe('started-at-1700000000000');
    expect(loaded.single(CLOCK)).toBeUndefined();

    const error = await loadError([{ name: './infra-user.mjs', config: { storeInRegister: true } }]);
    expect(error.code).toBe('HORDE_PLUGIN_RESOLVE_FAILED');
    expect(error.message).toContain('asked for Store');
    expect(error.message).toContain('inside a useFactory');
  });

  it('gives each plugin a logger bound to its name and a data directory of its own', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      destination: new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) }),
    });
    const config = parseConfig({ plugins: ['./infra-user.mjs'], dataDir: '/var/lib/horde' }, { baseDir: fixtures });
    const root = createRuntimeContainer({ config, logger, metrics: createMetricsRegistry({ defaultMetrics: false }), clock: fixedClock });
    await loadPlugins(config, root);
    const registering = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line['msg'] === 'registering');
    expect(registering).toMatchObject({ plugin: 'fixture-infra-user', dataDir: '/var/lib/horde/plugins/fixture-infra-user' });
  });

  it('refuses a module that does not default-export a plugin', async () => {
    const error = await loadError(['./not-a-plugin.mjs']);
    expect(error.code).toBe('HORDE_PLUGIN_INVALID');
    expect(error.message).toContain('export default definePlugin');
  });

  it('refuses a plugin that declares a runtime token, and one that provides an undeclared token', async () => {
    const store = await loadError(['./provides-store.mjs']);
    expect(store.code).toBe('HORDE_PLUGIN_TOKEN_NOT_ALLOWED');
    expect(store.message).toContain('fixture-provides-store" (plugins[0] in horde.config.yaml) declares that it provides Store');

    const undeclared = await loadError(['./undeclared.mjs']);
    expect(undeclared.code).toBe('HORDE_PLUGIN_TOKEN_NOT_ALLOWED');
    expect(undeclared.message).toContain('provides HardwareClass without declaring it');
  });

  it('reports a failing register or import with the plugin name and the cause', async () => {
    const register = await loadError(['./register-throws.mjs']);
    expect(register.code).toBe('HORDE_PLUGIN_REGISTER_FAILED');
    expect(register.message).toBe(
      'Plugin "fixture-register-throws" (plugins[0] in horde.config.yaml) failed in register: the weights file is missing',
    );

    const imported = await loadError(['./import-throws.mjs']);
    expect(imported.code).toBe('HORDE_PLUGIN_IMPORT_FAILED');
    expect(imported.message).toContain('boom at import');
  });
});
