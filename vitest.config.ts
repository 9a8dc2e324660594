import { defineConfig } from 'vitest/config';

// Two projects: `unit` runs anywhere (no pcscd, no devices); `e2e` runs against the real
// pcscd + vsmartcard-vpcd stack (test/**). With CI=true the e2e suites fail, never skip,
// when that stack is missing.
export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['core/**/*.test.ts', 'testing/**/*.test.ts', 'apdu/**/*.test.ts', 'drivers/**/*.test.ts', 'state/**/*.test.ts', 'daemon/**/*.test.ts', 'platform/**/*.test.ts', 'scripts/**/*.test.ts', 'web/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // One pcscd with one pair of vpcd readers: the suites must not share it concurrently.
          fileParallelism: false,
        },
      },
    ],
  },
});
