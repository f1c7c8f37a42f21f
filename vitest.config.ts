import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // pty/socat end-to-end tests spawn processes; keep parallelism modest on a 2-core machine.
    maxWorkers: 2,
  },
});
