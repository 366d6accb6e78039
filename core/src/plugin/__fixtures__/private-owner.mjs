// Keeps a private service in its own container and builds its JobGenerator from it.
import { definePlugin, JOB_GENERATOR } from '@horde/core';

export const SECRET = Symbol.for('fixture.secret-service');

export default definePlugin({
  name: 'fixture-private-owner',
  version: '1.0.0',
  apiRange: '^1.0.0',
  provides: [JOB_GENERATOR],
  register(ctx) {
    ctx.container.register(SECRET, { useValue: { owner: 'fixture-private-owner', salt: 'private' } });
    ctx.provide(JOB_GENERATOR, {
      useFactory: (resolve) => {
        const secret = resolve(SECRET);
        return { name: `generator-with-${secret.salt}-salt`, supports: () => true, generate: async () => { throw new Error('not used'); } };
      },
    });
  },
});
