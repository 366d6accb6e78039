// Uses infrastructure: the clock from a factory (fine), and optionally the store during register (too early without one).
import { CLOCK, definePlugin, DANCING_STRATEGY, STORE, z } from '@horde/core';

export default definePlugin({
  name: 'fixture-infra-user',
  version: '1.0.0',
  apiRange: '^1.0.0',
  provides: [DANCING_STRATEGY],
  configSchema: z.strictObject({ storeInRegister: z.boolean().default(false) }),
  register(ctx) {
    ctx.logger.info({ dataDir: ctx.dataDir }, 'registering');
    if (ctx.config.storeInRegister) ctx.resolve(STORE);
    ctx.provide(DANCING_STRATEGY, {
      useFactory: (resolve) => {
        const clock = resolve(CLOCK);
        return { name: `started-at-${clock.now()}`, mainHotkey: (c) => c.hotkeys[0], assign: () => ({}) };
      },
    });
  },
});
