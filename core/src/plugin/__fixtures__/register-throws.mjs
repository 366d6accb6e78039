// Its register fails.
import { definePlugin, SCORING_RULE } from '@horde/core';

export default definePlugin({
  name: 'fixture-register-throws',
  version: '1.0.0',
  apiRange: '^1.0.0',
  provides: [SCORING_RULE],
  async register() {
    throw new Error('the weights file is missing');
  },
});
