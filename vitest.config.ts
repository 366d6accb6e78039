import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  // tsyringe needs legacy (experimental) decorators; parameter decorators only with explicit @inject.
  oxc: { decorator: { legacy: true } },
  resolve: {
    // Tests import @horde/core from source, so a change in core needs no rebuild to be tested.
    alias: [
      { find: /^@horde\/core$/, replacement: here('./core/src/index.ts') },
      { find: /^@horde\/core\/runtime$/, replacement: here('./core/src/runtime.ts') },
      { find: /^@horde\/core\/testkit$/, replacement: here('./core/src/testkit/index.ts') },
      { find: /^@horde\/core\/sdk$/, replacement: here('./core/src/sdk/index.ts') },
      // The ssh and vast managers launch their agents through this shared library.
      { find: /^@horde\/ssh-launcher$/, replacement: here('./libs/ssh-launcher/src/index.ts') },
    ],
  },
  test: {
    include: [
      'core/src/**/*.test.ts',
      'plugins/*/src/**/*.test.ts',
      'executor-managers/*/src/**/*.test.ts',
      'libs/*/src/**/*.test.ts',
      'templates/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/dist/**', 'templates/template-*/**'],
    globalSetup: ['test/setup/global-setup.ts'],
    // In CI also a JSON report, from which .ci/run prints its closing "N passed, N failed" line.
    reporters: process.env['CI'] ? ['default', ['json', { outputFile: '.tmp/vitest-results.json' }]] : ['default'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
