import { DANCING_STRATEGY, definePlugin, z, type DancingContext, type DancingStrategy, type Manifest } from '@horde/core';

/*
 * {{packageName}}: a dancing strategy for horde miners.
 *
 * An operator may run one horde of executors under several hotkeys of one coldkey. Each cycle the
 * miner names one of them "main" and tells validators how many executors each hotkey has;
 * validators pay a bonus to a coldkey whose main hotkey changed since the previous cycle. The
 * strategy decides both, as pure functions of the context (cycle, hotkeys, whole manifest): every
 * miner process of the operator and every restart must give the same answer for the same cycle.
 *
 * This example moves the main hotkey along the list every `cyclesPerMain` cycles and deals each
 * class's executors round-robin over the hotkeys, starting with the main one (so the main hotkey
 * holds the most).
 */

/** The plugin's settings: its `config` section in horde.config.yaml, validated before it runs. */
export const {{pluginVar}}Config = z.strictObject({
  /** Cycles a hotkey stays main before the next one takes over (1: change every cycle). */
  cyclesPerMain: z.number().int().min(1).default(1),
});

export type {{className}}Config = z.output<typeof {{pluginVar}}Config>;

export const STRATEGY_NAME = '{{name}}';

export function {{pluginVar}}Strategy(config: {{className}}Config): DancingStrategy {
  const mainIndex = (ctx: DancingContext): number => {
    if (ctx.hotkeys.length === 0) throw new RangeError('a dancing strategy needs at least one hotkey');
    const n = ctx.hotkeys.length;
    const step = Math.floor(ctx.cycle / config.cyclesPerMain);
    return ((step % n) + n) % n;
  };
  return {
    name: STRATEGY_NAME,
    mainHotkey: (ctx) => ctx.hotkeys[mainIndex(ctx)] as string,
    assign(ctx) {
      const start = mainIndex(ctx);
      const n = ctx.hotkeys.length;
      // Hotkeys from the main one onwards: the first ones get the remainder of the division.
      const order = ctx.hotkeys.map((_, i) => ctx.hotkeys[(start + i) % n] as string);
      const assignment: Record<string, Manifest> = Object.fromEntries(order.map((hotkey) => [hotkey, {}]));
      for (const [executorClass, count] of Object.entries(ctx.manifest)) {
        order.forEach((hotkey, i) => {
          const share = Math.floor(count / n) + (i < count % n ? 1 : 0);
          if (share > 0) (assignment[hotkey] as Manifest)[executorClass] = share;
        });
      }
      return assignment;
    },
  };
}

/**
 * The plugin: what horde imports when horde.config.yaml lists this package. A miner uses exactly
 * one dancing strategy, so list this plugin instead of @horde/plugin-dancing.
 */
export default definePlugin({
  name: '{{packageName}}',
  // Keep in step with package.json (a test checks it); `horde plugins list` shows it.
  version: '0.1.0',
  // The plugin API versions this code is written for; horde refuses to load it elsewhere.
  apiRange: '^1.0.0',
  description: '{{description}}',
  provides: [DANCING_STRATEGY],
  configSchema: {{pluginVar}}Config,
  register(ctx) {
    ctx.provide(DANCING_STRATEGY, { useValue: {{pluginVar}}Strategy(ctx.config) });
  },
});
