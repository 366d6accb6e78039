// Provides two ScoringRules named after its config label, to check multi-token order.
import { definePlugin, SCORING_RULE, z } from '@horde/core';

export default definePlugin({
  name: 'fixture-rules-two',
  version: '1.0.0',
  apiRange: '^1.0.0',
  provides: [SCORING_RULE],
  configSchema: z.strictObject({ label: z.string().default('two') }),
  register(ctx) {
    for (const step of ['first', 'second']) {
      ctx.provide(SCORING_RULE, { useValue: { name: `${ctx.config.label}-${step}`, apply: (_facts, table) => table } });
    }
  },
});
