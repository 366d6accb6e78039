// A plugin whose validate hook checks what its schema cannot: that the class it names exists in the process.
import { definePlugin, HARDWARE_CLASS, SCORING_RULE, z } from '@horde/core';

export default definePlugin({
  name: 'fixture-validated',
  version: '1.0.0',
  apiRange: '^1.0.0',
  provides: [SCORING_RULE, HARDWARE_CLASS],
  configSchema: z.strictObject({ boostClass: z.string().default('fixture.class'), throwInValidate: z.boolean().default(false) }),
  register(ctx) {
    ctx.provide(HARDWARE_CLASS, {
      useValue: { id: 'fixture.class', description: 'fixture', spinUpSeconds: 0, shortCode: 'F', resources: {}, dockerPreset: 'none', proof: { jobGenerators: [], maxJobSeconds: 1 } },
    });
    ctx.provide(SCORING_RULE, { useValue: { name: 'boost', apply: (_facts, table) => table } });
  },
  validate(ctx) {
    if (ctx.config.throwInValidate) throw new Error('cannot read the boost table');
    const known = ctx.resolveAll(HARDWARE_CLASS).map((c) => c.id);
    return known.includes(ctx.config.boostClass) ? [] : [`boostClass "${ctx.config.boostClass}" is no hardware class here (${known.join(', ')})`];
  },
});
