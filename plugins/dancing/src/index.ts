import { DANCING_STRATEGY, definePlugin, z } from '@horde/core';
import { noDancing, randomSplit, rotateMain } from './strategies.js';

export { noDancing, randomSplit, rotateMain } from './strategies.js';

export const dancingConfig = z.strictObject({
  /**
   * `rotate-main`: the main hotkey (and the whole horde) moves to the next hotkey every cycle.
   * `random-split`: executors are dealt to the hotkeys at random each cycle (seeded).
   * `none`: the first hotkey is main for ever.
   */
  strategy: z.enum(['rotate-main', 'random-split', 'none']).default('rotate-main'),
  /** Seed of `random-split`; every miner process of one operator must use the same. */
  seed: z.string().min(1).default('horde'),
});

/** How a miner with several hotkeys under one coldkey shares its executors between them. */
export default definePlugin({
  name: '@horde/plugin-dancing',
  version: '0.1.0',
  apiRange: '^1.0.0',
  description: 'Dancing strategies: rotate-main, random-split, none',
  provides: [DANCING_STRATEGY],
  configSchema: dancingConfig,
  register(ctx) {
    const { strategy, seed } = ctx.config;
    const implementation = strategy === 'rotate-main' ? rotateMain() : strategy === 'random-split' ? randomSplit({ seed }) : noDancing();
    ctx.provide(DANCING_STRATEGY, { useValue: implementation });
  },
});
