import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    // Runs in every file; guards the logs of the files under tests/reliability/ only (issue 10).
    setupFiles: ['tests/support/log-guard.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: integration files start their own local servers, so keep the pool small.
    maxWorkers: 2,
  },
});
