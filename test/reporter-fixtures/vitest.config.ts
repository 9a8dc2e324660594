import { defineConfig } from 'vitest/config';

// Run by test/summary-reporter.test.ts on the fixtures named on its command line.
export default defineConfig({
  test: {
    include: ['test/reporter-fixtures/*.fixture.ts'],
    reporters: ['./test/summary-reporter.ts'],
  },
});
