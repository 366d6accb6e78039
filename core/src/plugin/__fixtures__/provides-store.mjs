// Declares a token that is the runtime's, not a plugin's.
import { definePlugin, STORE } from '@horde/core';

export default definePlugin({ name: 'fixture-provides-store', version: '1.0.0', apiRange: '^1.0.0', provides: [STORE], register() {} });
