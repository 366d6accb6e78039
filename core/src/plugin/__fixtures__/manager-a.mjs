// An ExecutorManager plugin with a config section.
import { definePlugin, EXECUTOR_MANAGER, z } from '@horde/core';

export default definePlugin({
  name: 'fixture-manager-a',
  version: '1.2.3',
  apiRange: '^1.0.0',
  provides: [EXECUTOR_MANAGER],
  configSchema: z.strictObject({ executors: z.number().int().min(0).default(1) }),
  register(ctx) {
    ctx.provide(EXECUTOR_MANAGER, {
      useFactory: () => ({
        name: 'manager-a',
        manifest: async () => ({ 'always_on.test': ctx.config.executors }),
        start: async () => ({ id: 'a' }),
        poll: async () => ({ state: 'running' }),
        kill: async () => {},
      }),
    });
  },
});
