import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Compile decorators the way tsc does (legacy), so code using horde's DI behaves the same in tests.
  oxc: { decorator: { legacy: true } },
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
