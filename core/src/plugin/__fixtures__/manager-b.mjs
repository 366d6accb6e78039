// A second ExecutorManager plugin: loading it beside manager-a must be refused.
import { definePlugin, EXECUTOR_MANAGER } from '@horde/core';

export default definePlugin({
  name: 'fixture-manager-b',
  version: '0.1.0',
  apiRange: '^1.0.0',
  provides: [EXECUTOR_MANAGER],
  register(ctx) {
    ctx.provide(EXECUTOR_MANAGER, {
      useValue: { manifest: async () => ({}), start: async () => ({ id: 'b' }), poll: async () => ({ state: 'running' }), kill: async () => {} },
    });
  },
});
