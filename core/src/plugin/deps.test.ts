/**
 * Typed plugin dependencies (`{ deps, factory }`) and the `close` hook: a declared dependency that
 * nothing provides fails at load, naming the plugin, the contract and where it would come from,
 * before any implementation is created and before a role opens its store; a satisfied one reaches
 * the factory by name; `close` runs for what was created, newest first, and one failing close
 * does not stop the others.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  definePlugin,
  JOB_GENERATOR,
  METRICS,
  OBJECT_STORE,
  PluginError,
  SCORING_RULE,
  STORE,
  type HordePlugin,
  type JobGenerator,
  type ObjectStore,
  type ScoringRule,
} from '@horde/core';
import {
  createMetricsRegistry,
  createRuntimeContainer,
  parseConfig,
  registerPlugins,
  roleInfrastructure,
  silentLogger,
  startValidator,
  SystemClock,
} from '@horde/core/runtime';

const fakeObjectStore = { name: 'fake-object-store' } as unknown as ObjectStore;

function rootFor(services: { objectStore?: ObjectStore } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'horde-deps-'));
  const config = parseConfig({ plugins: [], dataDir }, { baseDir: dataDir });
  return {
    dataDir,
    root: createRuntimeContainer({
      config,
      logger: silentLogger(),
      metrics: createMetricsRegistry({ defaultMetrics: false }),
      clock: new SystemClock(),
      ...services,
    }),
  };
}

async function register(
  plugins: readonly HordePlugin<unknown>[],
  services: { objectStore?: ObjectStore } = {},
  infrastructure?: readonly symbol[],
) {
  const { root, dataDir } = rootFor(services);
  return registerPlugins(
    plugins.map((plugin) => ({ plugin })),
    root,
    { dataDir, configFile: null },
    infrastructure ? { infrastructure } : {},
  );
}

/** A job generator that needs the object store; counts how often its factory ran. */
function needsObjects(calls: { factory: number }) {
  return definePlugin({
    name: 'needs-objects',
    version: '1.0.0',
    apiRange: '^1.0.0',
    provides: [JOB_GENERATOR],
    register(ctx) {
      ctx.provide(JOB_GENERATOR, {
        deps: { objects: OBJECT_STORE, metrics: METRICS },
        factory: ({ objects, metrics }) => {
          calls.factory += 1;
          // Typed from the tokens: an ObjectStore and a Metrics, no casts.
          return { name: 'objects-job', objects, metrics } as unknown as JobGenerator;
        },
      });
    },
  });
}

const loadError = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the load to fail');
    },
    (error: unknown) => error as PluginError,
  );

describe('typed plugin dependencies', () => {
  it('hands the factory its dependencies by name', async () => {
    const calls = { factory: 0 };
    const loaded = await register([needsObjects(calls)], { objectStore: fakeObjectStore });
    const [generator] = loaded.all(JOB_GENERATOR) as unknown as { objects: ObjectStore; metrics: unknown }[];
    expect(generator!.objects).toBe(fakeObjectStore);
    expect(generator!.metrics).toBeDefined();
    expect(calls.factory).toBe(1);
  });

  it('refuses a missing dependency at load, before the factory runs, naming plugin, contract and the fix', async () => {
    const calls = { factory: 0 };
    const error = await loadError(register([needsObjects(calls)]));
    expect(error).toBeInstanceOf(PluginError);
    expect(error.code).toBe('HORDE_PLUGIN_DEPENDENCY_MISSING');
    expect(error.message).toContain('"needs-objects"');
    expect(error.message).toContain('needs ObjectStore (deps.objects of its JobGenerator)');
    expect(error.message).toContain('Set objectStore');
    expect(calls.factory).toBe(0);
  });

  it('counts infrastructure the host registers later, and what another plugin provides', async () => {
    const calls = { factory: 0 };
    await expect(register([needsObjects(calls)], {}, [OBJECT_STORE])).resolves.toBeDefined();
    const objectsPlugin = definePlugin({
      name: 'objects-plugin',
      version: '1.0.0',
      apiRange: '^1.0.0',
      provides: [OBJECT_STORE],
      register(ctx) {
        ctx.provide(OBJECT_STORE, { useValue: fakeObjectStore });
      },
    });
    const loaded = await register([needsObjects(calls), objectsPlugin]);
    expect((loaded.all(JOB_GENERATOR)[0] as unknown as { objects: ObjectStore }).objects).toBe(fakeObjectStore);
  });

  it("names the shipped plugin that would provide another plugin's contract", async () => {
    const needsRules = definePlugin({
      name: 'needs-rules',
      version: '1.0.0',
      apiRange: '^1.0.0',
      provides: [JOB_GENERATOR],
      register(ctx) {
        ctx.provide(JOB_GENERATOR, { deps: { rules: SCORING_RULE }, factory: () => ({ name: 'x' }) as unknown as JobGenerator });
      },
    });
    const error = await loadError(register([needsRules]));
    expect(error.message).toContain('needs ScoringRule');
    expect(error.message).toContain('"@horde/plugin-scoring-classic"');
  });

  it('refuses deps that are not tokens', async () => {
    const broken = definePlugin({
      name: 'broken-deps',
      version: '1.0.0',
      apiRange: '^1.0.0',
      provides: [JOB_GENERATOR],
      register(ctx) {
        ctx.provide(JOB_GENERATOR, {
          deps: { store: 'Store' as unknown as typeof STORE },
          factory: () => ({ name: 'x' }) as unknown as JobGenerator,
        });
      },
    });
    const error = await loadError(register([broken]));
    expect(error.code).toBe('HORDE_PLUGIN_INVALID');
    expect(error.message).toContain('deps.store');
  });
});

describe('the close hook', () => {
  it('closes what was created, newest first, and goes on past a failing close', async () => {
    const closed: string[] = [];
    const rule = (name: string): ScoringRule => ({ name, apply: (_facts, table) => table });
    const plugin = definePlugin({
      name: 'closing',
      version: '1.0.0',
      apiRange: '^1.0.0',
      provides: [SCORING_RULE],
      register(ctx) {
        ctx.provide(SCORING_RULE, { useValue: rule('first'), close: (instance) => void closed.push(instance.name) });
        ctx.provide(SCORING_RULE, {
          useFactory: () => rule('second'),
          close: () => {
            closed.push('second');
            throw new Error('the second one fails to close');
          },
        });
        ctx.provide(SCORING_RULE, {
          deps: { metrics: METRICS },
          factory: () => rule('third'),
          close: (instance) => void closed.push(instance.name),
        });
      },
    });
    const loaded = await register([plugin]);
    expect(loaded.all(SCORING_RULE).map((created) => created.name)).toEqual(['first', 'second', 'third']);
    expect(closed).toEqual([]);
    await loaded.close();
    expect(closed).toEqual(['third', 'second', 'first']);
    // Closing twice closes nothing twice.
    await loaded.close();
    expect(closed).toHaveLength(3);
  });

  it('closes nothing that was never created', async () => {
    const closed: string[] = [];
    const plugin = definePlugin({
      name: 'lazy',
      version: '1.0.0',
      apiRange: '^1.0.0',
      provides: [JOB_GENERATOR],
      register(ctx) {
        ctx.provide(JOB_GENERATOR, {
          useFactory: () => ({ name: 'lazy' }) as unknown as JobGenerator,
          close: () => void closed.push('lazy'),
        });
      },
    });
    const loaded = await register([plugin]);
    await loaded.close();
    expect(closed).toEqual([]);
  });
});

describe('a role with a missing dependency', () => {
  it('refuses to start before it opens its store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'horde-deps-role-'));
    // A plugin file that needs the object store, written without importing @horde/core: the
    // loader recognises plugins and tokens by their Symbol.for names.
    const pluginFile = join(dir, 'needs-objects.mjs');
    writeFileSync(
      pluginFile,
      `export default {
  [Symbol.for('horde.plugin')]: true,
  name: 'file-needs-objects', version: '1.0.0', apiRange: '^1.0.0',
  provides: [Symbol.for('horde.JobGenerator')],
  register(ctx) {
    ctx.provide(Symbol.for('horde.JobGenerator'), { deps: { objects: Symbol.for('horde.ObjectStore') }, factory: () => ({ name: 'x' }) });
  },
};
`,
    );
    const database = join(dir, 'validator.sqlite');
    const config = parseConfig(
      {
        role: 'validator',
        dataDir: dir,
        hotkey: '//DepsValidator',
        store: { client: 'sqlite', filename: database },
        plugins: ['@horde/plugin-hardware-classes', './needs-objects.mjs'],
      },
      { baseDir: dir },
    );
    expect(roleInfrastructure(config)).not.toContain(OBJECT_STORE);
    const error = await loadError(startValidator(config, { logger: silentLogger() }));
    expect(error.code).toBe('HORDE_PLUGIN_DEPENDENCY_MISSING');
    expect(error.message).toContain('"file-needs-objects"');
    // Nothing was opened: the SQLite file the store would have created is not there.
    expect(existsSync(database)).toBe(false);
  });
});

describe('the hints for a missing dependency', () => {
  it('name shipped plugins that really provide the contract', async () => {
    const { SHIPPED_PROVIDERS } = await import('./dependency-hints.js');
    const { resolvePluginModule, SHIPPED_PLUGINS } = await import('@horde/core/runtime');
    const { pathToFileURL, fileURLToPath } = await import('node:url');
    const repo = fileURLToPath(new URL('../../../', import.meta.url));
    for (const [token, names] of SHIPPED_PROVIDERS) {
      for (const name of names) {
        expect(SHIPPED_PLUGINS).toContain(name);
        const location = resolvePluginModule(name, repo);
        if (!location.found) throw new Error(`${name} does not resolve from the repository`);
        const plugin = ((await import(pathToFileURL(location.path).href)) as { default: HordePlugin<unknown> }).default;
        expect(plugin.provides, `${name} provides ${String(token.description)}`).toContain(token);
      }
    }
  });
});
