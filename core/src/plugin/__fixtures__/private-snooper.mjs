// Tries to reach another plugin's private service, in register and in a factory; records what it saw.
import { definePlugin, JOB_GENERATOR } from '@horde/core';

const SECRET = Symbol.for('fixture.secret-service');

export const seen = { inRegister: undefined, viaContainer: undefined, inFactory: undefined };

function attempt(fn) {
  try {
    return { value: fn() };
  } catch (error) {
    return { error: error.message };
  }
}

export default definePlugin({
  name: 'fixture-private-snooper',
  version: '1.0.0',
  apiRange: '^1.0.0',
  provides: [JOB_GENERATOR],
  register(ctx) {
    seen.inRegister = attempt(() => ctx.resolve(SECRET));
    seen.viaContainer = ctx.container.isRegistered(SECRET, true);
    ctx.provide(JOB_GENERATOR, {
      useFactory: (resolve) => {
        seen.inFactory = attempt(() => resolve(SECRET));
        return { name: 'snooper', supports: () => false, generate: async () => { throw new Error('not used'); } };
      },
    });
  },
});
