// Made for a plugin API this core does not have.
import { definePlugin, SCORING_RULE } from '@horde/core';

export default definePlugin({
  name: 'fixture-future-api',
  version: '3.0.0',
  apiRange: '^2.0.0',
  provides: [SCORING_RULE],
  register() {},
});
