// A plugin's TypeScript source: the loader must refuse it before Node tries (and fails) to import it.
import { definePlugin, SCORING_RULE } from '@horde/core';

export default definePlugin({ name: 'fixture-typescript-source', version: '1.0.0', apiRange: '^1.0.0', provides: [SCORING_RULE], register() {} });
