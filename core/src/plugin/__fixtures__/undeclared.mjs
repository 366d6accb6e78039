// Provides a contract it did not list in `provides`.
import { definePlugin, HARDWARE_CLASS, SCORING_RULE } from '@horde/core';

export default definePlugin({
  name: 'fixture-undeclared',
  version: '1.0.0',
  apiRange: '^1.0.0',
  provides: [SCORING_RULE],
  register(ctx) {
    ctx.provide(HARDWARE_CLASS, { useValue: { id: 'x' } });
  },
});
