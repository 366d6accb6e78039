/**
 * Constructor injection for plugins (`{ useClass }`): tsyringe builds the class in the plugin's
 * container from its `@inject(TOKEN)` parameters: infrastructure, another plugin's contract, or a
 * private service of the plugin's own container. The tokens are checked at load like `deps`, a
 * parameter without `@inject` is refused at `provide`, and `close` gets the instance.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CLOCK,
  createToken,
  definePlugin,
  HARDWARE_CLASS,
  inject,
  injectable,
  LOGGER,
  OBJECT_STORE,
  PluginError,
  SCORING_RULE,
  type Clock,
  type HardwareClass,
  type HordePlugin,
  type Logger,
  type ObjectStore,
  type ScoringRule,
} from '@horde/core';
import {
  createMetricsRegistry,
  createRuntimeContainer,
  parseConfig,
  registerPlugins,
  silentLogger,
  SystemClock,
} from '@horde/core/runtime';

const clock = new SystemClock();
const logger = silentLogger();

async function register(plugins: readonly HordePlugin<unknown>[]) {
  const dataDir = mkdtempSync(join(tmpdir(), 'horde-inject-'));
  const config = parseConfig({ plugins: [], dataDir }, { baseDir: dataDir });
  const root = createRuntimeContainer({ config, logger, metrics: createMetricsRegistry({ defaultMetrics: false }), clock });
  return registerPlugins(
    plugins.map((plugin) => ({ plugin })),
    root,
    { dataDir, configFile: null },
  );
}

async function loadError(promise: Promise<unknown>): Promise<PluginError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(PluginError);
  return error as PluginError;
}

/** A private service of the plugin: registered in ctx.container, invisible to the others. */
const BONUS = createToken<{ readonly factor: number }>('test.Bonus');

@injectable()
class BonusRule implements ScoringRule {
  readonly name = 'bonus';
  closed = false;
  constructor(
    @inject(CLOCK) readonly clock: Clock,
    @inject(LOGGER) readonly logger: Logger,
    @inject(BONUS) readonly bonus: { readonly factor: number },
    @inject(HARDWARE_CLASS) readonly hardwareClass: HardwareClass,
  ) {}
  apply(_facts: unknown, table: Parameters<ScoringRule['apply']>[1]) {
    return table;
  }
}

const hardwareClassPlugin = definePlugin({
  name: 'one-class',
  version: '1.0.0',
  apiRange: '^1.0.0',
  provides: [HARDWARE_CLASS],
  register(ctx) {
    ctx.provide(HARDWARE_CLASS, { useValue: { id: 'always_on.test', shortCode: 'T' } as unknown as HardwareClass });
  },
});

const bonusPlugin = definePlugin({
  name: 'bonus-rule',
  version: '1.0.0',
  apiRange: '^1.0.0',
  provides: [SCORING_RULE],
  register(ctx) {
    ctx.container.register(BONUS, { useValue: { factor: 1.5 } });
    ctx.provide(SCORING_RULE, {
      useClass: BonusRule,
      close: (rule) => {
        (rule as BonusRule).closed = true;
      },
    });
  },
});

describe('useClass providers', () => {
  it("build the class with its @inject tokens: infrastructure, another plugin's contract, a private service", async () => {
    const loaded = await register([hardwareClassPlugin, bonusPlugin]);
    const [rule] = loaded.all(SCORING_RULE) as BonusRule[];
    expect(rule).toBeInstanceOf(BonusRule);
    expect(rule!.clock).toBe(clock);
    expect(rule!.logger).toBe(logger);
    expect(rule!.bonus).toEqual({ factor: 1.5 });
    expect(rule!.hardwareClass.id).toBe('always_on.test');
    // Built once, then the same instance.
    expect(loaded.all(SCORING_RULE)[0]).toBe(rule);
    await loaded.close();
    expect(rule!.closed).toBe(true);
  });

  it('refuse an @inject token nothing provides at load, before any class is built', async () => {
    let built = 0;
    @injectable()
    class NeedsObjects {
      readonly name = 'needs-objects';
      constructor(@inject(OBJECT_STORE) readonly objects: ObjectStore) {
        built++;
      }
    }
    const error = await loadError(
      register([
        definePlugin({
          name: 'needs-objects',
          version: '1.0.0',
          apiRange: '^1.0.0',
          provides: [SCORING_RULE],
          register: (ctx) => ctx.provide(SCORING_RULE, { useClass: NeedsObjects as never }),
        }),
      ]),
    );
    expect(error.code).toBe('HORDE_PLUGIN_DEPENDENCY_MISSING');
    expect(error.message).toContain('needs ObjectStore (constructor parameter 0 of its ScoringRule)');
    expect(built).toBe(0);
  });

  it("keep a plugin's private services private: another plugin's class cannot inject them", async () => {
    @injectable()
    class Snooper {
      readonly name = 'snooper';
      constructor(@inject(BONUS) readonly bonus: unknown) {}
    }
    const snooper = definePlugin({
      name: 'snooper',
      version: '1.0.0',
      apiRange: '^1.0.0',
      provides: [SCORING_RULE],
      register: (ctx) => ctx.provide(SCORING_RULE, { useClass: Snooper as never }),
    });
    const error = await loadError(register([hardwareClassPlugin, bonusPlugin, snooper]));
    expect(error.code).toBe('HORDE_PLUGIN_DEPENDENCY_MISSING');
    expect(error.message).toContain('"snooper" needs test.Bonus');
  });

  it('refuse a constructor parameter without @inject at provide, naming the class and the parameter', async () => {
    @injectable()
    class Untokened {
      readonly name = 'untokened';
      constructor(
        @inject(CLOCK) readonly clock: Clock,
        readonly logger: Logger,
      ) {}
    }
    const error = await loadError(
      register([
        definePlugin({
          name: 'untokened',
          version: '1.0.0',
          apiRange: '^1.0.0',
          provides: [SCORING_RULE],
          register: (ctx) => ctx.provide(SCORING_RULE, { useClass: Untokened as never }),
        }),
      ]),
    );
    expect(error.code).toBe('HORDE_PLUGIN_INVALID');
    expect(error.message).toContain('class Untokened, whose constructor parameter 1 has no @inject(TOKEN)');
  });
});
